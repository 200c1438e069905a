import { describe, expect, it } from 'vitest';
import { type JsonEvent, jsonEvents } from './json-stream.js';

async function* pieces(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function events(text: string, size = text.length || 1): Promise<JsonEvent[]> {
  const out: JsonEvent[] = [];
  for await (const event of jsonEvents(pieces(text, size), 'f.json', 'images')) out.push(event);
  return out;
}

describe('jsonEvents', () => {
  const text =
    '\ufeff{ "version": 1, "classes": ["a", "b \\"q\\" ]}"],\n "images": [ {"image": "x,y].png", "label": null},\n' +
    '  {"image": "é\\\\", "n": [1, {"k": [true, false]}]}, 7, "s" ], "after": {"z": -1.5e3} }\n';

  it('yields the top-level keys and each image, wherever the text is cut', async () => {
    const whole = await events(text);
    expect(whole).toEqual([
      { kind: 'value', key: 'version', value: 1 },
      { kind: 'value', key: 'classes', value: ['a', 'b "q" ]}'] },
      { kind: 'item', key: 'images', index: 0, value: { image: 'x,y].png', label: null } },
      { kind: 'item', key: 'images', index: 1, value: { image: 'é\\', n: [1, { k: [true, false] }] } },
      { kind: 'item', key: 'images', index: 2, value: 7 },
      { kind: 'item', key: 'images', index: 3, value: 's' },
      { kind: 'value', key: 'images', value: [], streamed: true },
      { kind: 'value', key: 'after', value: { z: -1500 } },
    ]);
    for (const size of [1, 2, 3, 5, 7, 13]) expect(await events(text, size)).toEqual(whole);
  });

  it('names the file and what is wrong in text that is not JSON', async () => {
    await expect(events('{"images": [{"image": "a"}')).rejects.toThrow(/f\.json: not valid JSON: expected "," or "\]"/);
    await expect(events('{"images": [{"image": "a"')).rejects.toThrow(
      /f\.json: not valid JSON: the file ends inside a value/,
    );
    await expect(events('{"images": [], "x": tru}')).rejects.toThrow(/f\.json: not valid JSON: Unexpected/);
    await expect(events('{"images": []} x')).rejects.toThrow(/unexpected "x" after the end of the document/);
    await expect(events('{"images" []}')).rejects.toThrow(/expected ":" after the key "images"/);
    expect(await events('[1, 2]', 2)).toEqual([{ kind: 'document', value: [1, 2] }]);
  });
});
