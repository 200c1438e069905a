/**
 * @module The workspace report: one self-contained HTML page of figures and plots about labels,
 * suggestions and the fit, the model that made them, example images of every class (small inline
 * JPEGs) and the confusion matrix of the random checks.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  expectedCalibrationError,
  precisionCoverage,
  reliabilityBins,
  type ScoredPrediction,
} from '../learn/calibration.js';
import { MIN_CHECKS_FOR_ESTIMATE } from '../verify/estimate.js';
import { barChart, histogram, lineChart, reliabilityDiagram } from '../charts/svg.js';
import { type GalleryGroup, reportHtml, type ReportSection, type ReportTable } from '../charts/html.js';
import { timeUnitFor } from '../charts/time.js';
import { HUMAN_LABEL_SOURCES, imageStatus, type ImageStatus } from '../domain/index.js';
import type { CheckRecord, LabelRecord, Store, SuggestionRecord } from '../store/store.js';
import { writeFileAtomic } from '../util/fs.js';
import { accuracyOf, summaryOf } from './fit-summary.js';

/** The statuses of images with a label or a suggestion, in the order the report shows them. */
const STATUS_ORDER = ['labeled', 'accepted', 'auto', 'suggested'] as const satisfies readonly ImageStatus[];
/** Example images per class, and the longer side of their thumbnails in pixels. */
const EXAMPLES_PER_CLASS = 4;
const THUMBNAIL_SIZE = 96;

export interface WriteReportOptions {
  readonly title: string;
  /** The workspace's model spec, named on the page: the embeddings every figure rests on. */
  readonly modelSpec: string;
  /** Where the images are, for the example thumbnails. */
  readonly imagesRoot: string;
  /** Largest width * height read for a thumbnail (the workspace's limit). */
  readonly maxPixels: number;
}

export async function writeReport(store: Store, outDir: string, options: WriteReportOptions): Promise<string> {
  const { title } = options;
  const rows = await store.exportRows();
  const labels = await store.listLabels();
  const fits = await store.listFits();
  const suggestions = await store.listSuggestions();
  const latest = fits.at(-1);
  const summary = summaryOf(latest);
  // Random checks, when there are enough, are the unbiased evidence; labels people chose are not.
  const checked: ScoredPrediction[] = (summary?.checks ?? [])
    .filter(([, , , answer]) => answer !== null)
    .map(([, confidence, correct]) => ({ confidence, correct: correct === 1 }));
  const fromChecks = checked.length >= MIN_CHECKS_FOR_ESTIMATE;
  const predictions: ScoredPrediction[] = fromChecks
    ? checked
    : (summary?.crossValidation.predictions ?? []).map(([confidence, correct]) => ({
        confidence,
        correct: correct === 1,
      }));
  const evidence = fromChecks
    ? `${checked.length} random checks, each predicted without seeing its answer`
    : 'held-out labelled images; they were chosen by people or by next, not drawn at random, so these figures may be biased';
  const accuracy = accuracyOf(latest);

  // Images per class, split by where the label or suggestion came from.
  const perClass = new Map<string, Record<ImageStatus, number>>();
  for (const row of rows) {
    if (row.label === null) continue;
    const counts = perClass.get(row.label) ?? { labeled: 0, accepted: 0, auto: 0, suggested: 0, unlabeled: 0 };
    counts[imageStatus(row)]++;
    perClass.set(row.label, counts);
  }
  const classes = [...perClass.keys()].sort();
  const human = labels
    .filter((l) => HUMAN_LABEL_SOURCES.includes(l.source))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const start = human.length > 0 ? Date.parse(human[0]!.createdAt) : 0;
  // Counted in the unit that suits the span: a 40-minute session in minutes, a month in days.
  const unit = timeUnitFor(human.length > 0 ? Date.parse(human.at(-1)!.createdAt) - start : 0);
  const thresholds = Array.from({ length: 51 }, (_, i) => i / 50);
  // Coverage counts suggestions only; their correctness is unknown.
  const unlabelled = suggestions.map((s) => ({ confidence: s.confidence, correct: false }));
  const sections: ReportSection[] = [
    {
      title: 'Examples per class',
      text:
        `Up to ${EXAMPLES_PER_CLASS} images of each class: first images people labelled, then the ` +
        'suggestions of that class the model is most confident about.',
      gallery: await examples(classes, human, suggestions, options),
    },
    {
      title: 'Images per class',
      svg: barChart({
        title: 'Images per class',
        yLabel: 'images',
        bars: classes.map((label) => {
          const counts = perClass.get(label)!;
          return {
            label,
            value: STATUS_ORDER.reduce((sum, s) => sum + counts[s], 0),
            stack: STATUS_ORDER.map((s) => ({ name: s, value: counts[s] })),
          };
        }),
      }),
      table: {
        columns: ['class', ...STATUS_ORDER],
        rows: classes.map((label) => [label, ...STATUS_ORDER.map((s) => perClass.get(label)![s])]),
      },
    },
    {
      title: 'Labels over time',
      text: 'Labels given by people (typed or imported), counted from the first one.',
      svg: lineChart({
        title: 'Labels over time',
        xLabel: `${unit.name} since the first label`,
        yLabel: 'labels',
        series: [
          {
            name: 'labels',
            points: human.map((l, i) => ({ x: (Date.parse(l.createdAt) - start) / unit.ms, y: i + 1 })),
          },
        ],
      }),
    },
    {
      title: 'Estimated accuracy',
      text:
        'How often a suggestion is right, at each fit: from random checks where the fit had at least 10 ' +
        '(unbiased), else cross-validated on the labelled images (may be biased).',
      svg: lineChart({
        title: 'Estimated accuracy by fit',
        xLabel: 'labels',
        yLabel: 'accuracy',
        yDomain: [0, 1],
        series: [
          {
            name: 'estimated accuracy',
            points: fits.map((f) => ({ x: f.labels, y: accuracyOf(f)?.estimate ?? NaN })),
          },
        ],
      }),
    },
    {
      title: 'Confidence of the suggestions',
      svg: histogram({
        title: 'Confidence of the current suggestions',
        xLabel: 'confidence',
        yLabel: 'images',
        name: 'suggestions',
        bins: Array.from({ length: 20 }, (_, b) => ({
          from: b / 20,
          to: (b + 1) / 20,
          count: suggestions.filter((s) => Math.min(19, Math.floor(s.confidence * 20)) === b).length,
        })),
      }),
    },
    {
      title: 'Precision and coverage vs threshold',
      text:
        `Precision: of the ${evidence} whose confidence is at least the threshold, the share predicted right. ` +
        'Coverage: the share of unlabelled images whose suggestion reaches the threshold.',
      svg: lineChart({
        title: 'Precision and coverage vs threshold',
        xLabel: 'confidence threshold',
        yLabel: 'share',
        yDomain: [0, 1],
        xDomain: [0, 1],
        series: [
          {
            name: fromChecks ? 'precision (random checks)' : 'precision (held-out labels)',
            points: precisionCoverage(predictions, thresholds).map((p) => ({ x: p.threshold, y: p.precision })),
          },
          {
            name: 'coverage (unlabelled images)',
            points: precisionCoverage(unlabelled, thresholds).map((p) => ({ x: p.threshold, y: p.coverage })),
          },
          ...(summary?.targetPrecision != null
            ? [
                {
                  name: 'target precision',
                  dashed: true,
                  points: [0, 1].map((x) => ({ x, y: summary.targetPrecision! })),
                },
              ]
            : []),
        ],
      }),
    },
    {
      title: 'Calibration',
      text: `The ${evidence}, by confidence: a calibrated model is right as often as it says.`,
      svg: reliabilityDiagram({ title: 'Calibration of the latest fit', bins: reliabilityBins(predictions, 10) }),
    },
    confusionSection(await store.listChecks()),
  ];
  const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
  const html = reportHtml({
    title,
    generatedAt: new Date(),
    summary: [
      { label: 'model', value: options.modelSpec },
      { label: 'images', value: rows.length },
      { label: 'labelled by people', value: human.length },
      { label: 'accepted suggestions', value: labels.length - human.length },
      { label: 'suggestions', value: suggestions.length },
      { label: 'auto', value: suggestions.filter((s) => s.status === 'auto').length },
      {
        label: 'estimated accuracy',
        value: !accuracy
          ? '-'
          : accuracy.low !== null && accuracy.high !== null
            ? `${pct(accuracy.estimate)} (95% CI ${pct(accuracy.low)}-${pct(accuracy.high)}, ${accuracy.checks} random checks)`
            : `${pct(accuracy.estimate)} (${accuracy.note})`,
      },
      {
        label: 'certified auto',
        value: summary?.certificate
          ? `${summary.certificate.certified} at precision >= ${pct(summary.certificate.targetPrecision)}`
          : '-',
      },
      {
        label: 'calibration error',
        value: predictions.length > 0 ? expectedCalibrationError(predictions).toFixed(3) : '-',
      },
      { label: 'latest fit', value: latest ? `${latest.id} (${latest.createdAt})` : 'none yet' },
    ],
    sections,
  });
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'index.html');
  await writeFileAtomic(file, [html]);
  return file;
}

/**
 * Suggested class against the person's answer over every answered random check (all draws; skipped
 * checks are left out). Raw counts, not design weights: a reader can count them back in the checklist.
 */
export function confusionSection(checks: readonly CheckRecord[]): ReportSection {
  const title = 'Random checks: suggested vs answered';
  const answered = checks.filter((c): c is CheckRecord & { answer: string } => c.answer !== null && !c.skipped);
  if (answered.length === 0) {
    return {
      title,
      text:
        'No random checks yet: verify a random sample of the suggestions (autolabel verify, or the Verify view) ' +
        'and their answers appear here as a confusion matrix.',
    };
  }
  const skipped = checks.filter((c) => c.skipped).length;
  const draws = new Set(answered.map((c) => c.drawId)).size;
  const table = confusionTable(answered);
  const agreed = answered.filter((c) => c.answer === c.suggested).length;
  return {
    title,
    text:
      `Raw counts (not weighted by the draws' design weights) of the ${answered.length} answered random checks ` +
      `from ${draws} ${draws === 1 ? 'draw' : 'draws'}; ${skipped} skipped ${skipped === 1 ? 'check is' : 'checks are'} ` +
      `not counted. Rows: the class suggested; columns: the person's answer. They agreed on ${agreed} ` +
      `(the diagonal). Checks are stratified by confidence, so raw shares over-represent some confidences; ` +
      'the estimated accuracy above uses the weights.',
    table,
  };
}

/** A confusion matrix with a row per suggested class, a column per answer, and row totals. */
function confusionTable(answered: readonly (CheckRecord & { answer: string })[]): ReportTable {
  const classes = [...new Set(answered.flatMap((c) => [c.suggested, c.answer]))].sort();
  const at = new Map(classes.map((name, i) => [name, i]));
  const counts = classes.map(() => classes.map(() => 0));
  for (const check of answered) counts[at.get(check.suggested)!]![at.get(check.answer)!]!++;
  const used = classes.filter((_, i) => counts[i]!.some((count) => count > 0));
  return {
    columns: ['suggested ↓ / answered →', ...classes, 'total'],
    rows: used.map((name) => {
      const row = counts[at.get(name)!]!;
      return [name, ...row, row.reduce((a, b) => a + b, 0)];
    }),
  };
}

/** Up to EXAMPLES_PER_CLASS images per class: people's labels first (oldest first), then the most confident suggestions. */
async function examples(
  classes: readonly string[],
  human: readonly LabelRecord[],
  suggestions: readonly SuggestionRecord[],
  options: WriteReportOptions,
): Promise<GalleryGroup[]> {
  const byConfidence = [...suggestions].sort((a, b) => b.confidence - a.confidence);
  const groups: GalleryGroup[] = [];
  for (const name of classes) {
    const labelled = human.filter((l) => l.label === name).map((l) => ({ path: l.path, caption: 'labelled' }));
    const suggested = byConfidence
      .filter((s) => s.label === name)
      .map((s) => ({ path: s.path, caption: `suggested ${(100 * s.confidence).toFixed(0)}%` }));
    const picked = [...labelled, ...suggested].slice(0, EXAMPLES_PER_CLASS);
    const items = await Promise.all(
      picked.map(async (pick) => ({
        src: await thumbnail(join(options.imagesRoot, pick.path), options.maxPixels),
        alt: pick.path,
        caption: pick.caption,
      })),
    );
    groups.push({ title: name, items });
  }
  return groups;
}

/**
 * A small JPEG of an image as a data: URI (the page fetches nothing), or null when the file cannot be
 * read any more. sharp (a native add-on) loads here, with the first thumbnail, not with core.
 */
async function thumbnail(file: string, maxPixels: number): Promise<string | null> {
  const sharp = (await import('sharp')).default;
  try {
    const data = await readFile(file);
    const jpeg = await sharp(data, { limitInputPixels: maxPixels, pages: 1, autoOrient: true })
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .jpeg({ quality: 70 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    return null;
  }
}
