/** @module The workspace report: one self-contained HTML page of figures and plots about labels, suggestions and the fit. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  expectedCalibrationError,
  precisionCoverage,
  reliabilityBins,
  type ScoredPrediction,
} from '../learn/calibration.js';
import { MIN_CHECKS_FOR_ESTIMATE } from '../verify/estimate.js';
import { barChart, histogram, lineChart, reliabilityDiagram } from '../charts/svg.js';
import { reportHtml, type ReportSection } from '../charts/html.js';
import { HUMAN_LABEL_SOURCES, imageStatus, type ImageStatus } from '../domain/index.js';
import type { Store } from '../store/store.js';
import { writeFileAtomic } from '../util/fs.js';
import { accuracyOf, summaryOf } from './fit-summary.js';

/** The statuses of images with a label or a suggestion, in the order the report shows them. */
const STATUS_ORDER = ['labeled', 'accepted', 'auto', 'suggested'] as const satisfies readonly ImageStatus[];

export async function writeReport(store: Store, outDir: string, title: string): Promise<string> {
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
  const thresholds = Array.from({ length: 51 }, (_, i) => i / 50);
  // Coverage counts suggestions only; their correctness is unknown.
  const unlabelled = suggestions.map((s) => ({ confidence: s.confidence, correct: false }));
  const sections: ReportSection[] = [
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
        xLabel: 'hours since the first label',
        yLabel: 'labels',
        series: [
          { name: 'labels', points: human.map((l, i) => ({ x: (Date.parse(l.createdAt) - start) / 3.6e6, y: i + 1 })) },
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
  ];
  const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
  const html = reportHtml({
    title,
    generatedAt: new Date(),
    summary: [
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
