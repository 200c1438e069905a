import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeImage } from '@autolabel/test-utils';
import { type ReadResult, readSource, scratchFolder } from '../testing/formats.js';
import { initWorkspace, storeOf } from '../workspace/workspace.js';
import { labelStudio, labelStudioTask } from './label-studio.js';
import { sniffFormat } from './registry.js';

const { json: write, dir } = scratchFolder('autolabel-label-studio-');

const read = (source: string): Promise<ReadResult> => readSource(labelStudio, source);

const user = { id: 1, first_name: '', last_name: '', avatar: null, email: 'ann@example.com', initials: 'an' };
const choices = (...labels: string[]) => ({
  id: 'Xy1',
  type: 'choices',
  value: { choices: labels },
  origin: 'manual',
  to_name: 'image',
  from_name: 'choice',
});

/** A task as Label Studio's JSON export writes it (annotations with completed_by objects, drafts, reviews, predictions). */
function task(id: number, image: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    annotations: [],
    file_upload: 'ab12cd34-a.jpg',
    drafts: [],
    predictions: [],
    data: { image },
    meta: {},
    created_at: '2024-01-01T00:00:00.000000Z',
    updated_at: '2024-01-01T00:00:00.000000Z',
    inner_id: id,
    total_annotations: 1,
    cancelled_annotations: 0,
    total_predictions: 0,
    comment_count: 0,
    unresolved_comment_count: 0,
    last_comment_updated_at: null,
    project: 3,
    updated_by: 1,
    comment_authors: [],
    ...extra,
  };
}
const annotation = (result: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 7,
  completed_by: user,
  result,
  was_cancelled: false,
  ground_truth: false,
  created_at: '2024-01-01T00:00:00Z',
  updated_at: '2024-01-01T00:00:00Z',
  draft_created_at: null,
  lead_time: 3.2,
  prediction: {},
  result_count: 0,
  unique_id: 'u',
  import_id: null,
  last_action: null,
  task: 1,
  project: 3,
  updated_by: 1,
  parent_prediction: null,
  parent_annotation: null,
  last_created_by: null,
  ...extra,
});

describe('label-studio', () => {
  it('reads an export: every kind of image URL, choices from annotations, predictions, drafts and regions only counted', async () => {
    const file = write([
      task(1, '/data/upload/3/8f3a2b1c-cat 1.jpg', { annotations: [annotation([choices('cat')])] }),
      task(2, '/data/local-files/?d=pets%2Fdog.jpg', {
        annotations: [annotation([choices('dog')]), annotation([choices('dog')], { completed_by: 2 })],
        reviews: [{ id: 1, accepted: true, created_by: user, annotation: 7 }],
      }),
      task(3, 'https://bucket.example.com/a%20b.jpg?X-Amz-Signature=1', {
        annotations: [annotation([choices('cat')], { was_cancelled: true })],
        predictions: [{ id: 1, model_version: 'v1', score: 0.5, result: [choices('dog')] }],
        drafts: [
          { id: 1, user: 'ann@example.com', created_username: 'ann', created_ago: '1 day', result: [choices('bird')] },
        ],
      }),
      task(4, 'pets/bare.png', {
        annotations: [
          annotation([
            choices('cat', 'dog'),
            { type: 'rectanglelabels', value: { x: 1, y: 1, width: 2, height: 2, rectanglelabels: ['cat'] } },
          ]),
        ],
      }),
    ]);
    expect((await sniffFormat(file)).name).toBe('label-studio');
    const result = await read(file);
    expect(result.entries).toEqual([
      { image: { path: '/data/upload/3/8f3a2b1c-cat 1.jpg' }, labels: ['cat'], provenance: null },
      { image: { path: '/data/local-files/?d=pets%2Fdog.jpg' }, labels: ['dog'], provenance: null },
      { image: { path: 'https://bucket.example.com/a%20b.jpg?X-Amz-Signature=1' }, labels: [] },
      // Two choices: the import's --multi rule decides.
      { image: { path: 'pets/bare.png' }, labels: ['cat', 'dog'], provenance: null },
    ]);
    expect(result.wheres[3]).toBe(`${file}: [3] (pets/bare.png)`);
    expect(result.notes).toEqual([
      `${file}: not imported: 1 prediction (not labels; imported as suggestions when predictions are asked for), 1 draft, 1 cancelled annotation, 1 result other than choices (regions, text)`,
    ]);
  });

  it('reads a single task that is not in a list, old completions, and the JSON-MIN export', async () => {
    const single = write(task(9, 'a.jpg', { annotations: [annotation([choices('cat')])] }));
    expect((await sniffFormat(single)).name).toBe('label-studio');
    expect((await read(single)).entries).toEqual([{ image: { path: 'a.jpg' }, labels: ['cat'], provenance: null }]);
    expect((await read(single)).wheres).toEqual([`${single} (a.jpg)`]);
    const old = write([{ id: 1, data: { img: 'b.jpg' }, completions: [{ result: [choices('dog')] }] }]);
    expect((await read(old)).entries).toEqual([{ image: { path: 'b.jpg' }, labels: ['dog'], provenance: null }]);
    const min = write([
      { image: 'c.jpg', id: 1, choice: 'cat', annotator: 1, lead_time: 1 },
      { image: 'd.jpg', choice: { choices: ['a', 'b'] } },
    ]);
    expect((await read(min)).entries.map((e) => e.labels)).toEqual([['cat'], ['a', 'b']]);
  });

  it("--predictions: a model's predictions become suggestions with their score, never labels", async () => {
    const images = join(dir(), 'images');
    for (const [i, name] of ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].entries()) {
      await writeImage(join(images, name), 'jpeg', { width: 8, height: 8, noise: 40, seed: i });
    }
    const ws = await initWorkspace({ images, workspace: join(dir(), 'ws') });
    try {
      await ws.scan();
      const store = storeOf(ws);
      // Embedded by a stand-in model, so the workspace has a model whose suggestions accept takes.
      await store.registerModel({ id: 'test-model', spec: ws.modelSpec, dim: 2 });
      const vectors = (await store.listImages()).map((image) => ({
        contentHash: image.contentHash,
        vector: Float32Array.of(1, 0),
      }));
      await store.putEmbeddings({ modelId: 'test-model', dtype: 'float32', dim: 2, vectors, failures: [] });
      const file = write([
        // A person's label and a prediction: the label stays the person's; the prediction is the image's suggestion.
        task(1, 'a.jpg', {
          annotations: [annotation([choices('cat')])],
          predictions: [{ id: 1, model_version: 'resnet-v2', score: 0.7, result: [choices('dog')] }],
        }),
        // Two model versions: the better-scored one is the suggestion, the other class its runner-up.
        task(2, 'b.jpg', {
          predictions: [
            { id: 2, model_version: 'v1', score: 0.4, result: [choices('cat')] },
            { id: 3, model_version: 'v2', result: [{ ...choices('dog'), score: 0.9 }] },
          ],
        }),
        // No score anywhere: no suggestion (counted in a note).
        task(3, 'c.jpg', { predictions: [{ id: 4, model_version: 'v1', result: [choices('cat')] }] }),
        task(4, 'd.jpg'),
      ]);
      const without = await ws.import(file, { format: 'label-studio' });
      expect(without).toMatchObject({ imported: 1, suggestions: 0, fitId: null });
      const result = await ws.import(file, { format: 'label-studio', predictions: true });
      expect(result).toMatchObject({ imported: 0, unchanged: 1, suggestions: 2 });
      expect(result.notes).toEqual([`${file}: not imported: 1 prediction without a score (a suggestion needs one)`]);
      const suggestions = (await store.listSuggestions()).map(
        ({ path, label, confidence, runnerUp, runnerUpConfidence, status, fitId }) => ({
          path,
          label,
          confidence,
          runnerUp,
          runnerUpConfidence,
          status,
          fitId,
        }),
      );
      // Only images without a label are offered; a's prediction is kept but a's label stays the person's.
      expect(suggestions).toEqual([
        {
          path: 'b.jpg',
          label: 'dog',
          confidence: 0.9,
          runnerUp: 'cat',
          runnerUpConfidence: 0.4,
          status: 'suggested',
          fitId: result.fitId,
        },
      ]);
      expect((await store.listLabels()).map((l) => l.label)).toEqual(['cat']);
      expect((await store.latestFit())?.summary).toMatchObject({
        imported: { format: 'label-studio', models: ['resnet-v2', 'v2'] },
      });
      // They are the workspace's suggestions: accept takes them (they were never certified: not auto).
      expect(await ws.suggestions.accept({ minConfidence: 0.8 })).toMatchObject({ accepted: 1 });
      const bad = write([task(1, 'b.jpg', { predictions: [{ id: 1, score: 1.5, result: [choices('dog')] }] })]);
      await expect(ws.import(bad, { format: 'label-studio', predictions: true })).rejects.toThrow(
        `${bad}: [0]: predictions[0]: score: must be a number from 0 to 1`,
      );
    } finally {
      await ws.close();
    }
  });

  it('names the file, the task and the field of what is wrong', async () => {
    const cases: [unknown, string][] = [
      [[{ data: {} }], '[0]: data.image: must be a string naming the image (data holds nothing)'],
      [[{ data: { image: 'a' }, annotations: {} }], '[0]: annotations: must be a list of annotations'],
      [
        [{ data: { image: 'a' }, annotations: [{ result: [{ type: 'choices', value: { choices: 'cat' } }] }] }],
        '[0]: annotations[0].result[0].value.choices: must be a list of class names',
      ],
      [{ tasks: [] }, 'not a task nor a list of tasks'],
    ];
    for (const [value, message] of cases) {
      const file = write(value);
      await expect(read(file)).rejects.toThrow(`${file}: ${message}`);
    }
  });

  it('writes labels as annotations and suggestions as predictions with score and model_version', () => {
    const base = {
      path: 'a b/%.jpg',
      width: 1,
      height: 1,
      origin: null,
      originDetail: null,
      confidence: null,
      suggestionStatus: 'suggested',
    };
    const suggestion = {
      label: 'dog',
      confidence: 0.73,
      runnerUp: 'cat',
      runnerUpConfidence: 0.2,
      status: 'suggested',
      fitId: 4,
    };
    // As the store gives a suggestion's row: its label is the suggested one, and it has no source.
    const suggested = labelStudioTask({ ...base, label: 'dog', source: null, suggestion } as never);
    expect(suggested).toMatchObject({
      data: { image: '/data/local-files/?d=a%20b%2F%25.jpg' },
      annotations: [],
      predictions: [
        {
          model_version: 'fit-4',
          score: 0.73,
          result: [{ type: 'choices', from_name: 'choice', to_name: 'image', value: { choices: ['dog'] } }],
        },
      ],
    });
    const labelled = labelStudioTask({
      ...base,
      label: 'cat',
      source: 'manual',
      origin: 'chosen',
      suggestion,
    } as never);
    expect(labelled).toMatchObject({
      annotations: [{ result: [{ value: { choices: ['cat'] } }] }],
      predictions: [],
      meta: { autolabel: { status: 'labeled', origin: 'chosen' } },
    });
  });
});
