import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, COLOUR_CLASSES, runCli, runCliJson, embeddedColourWorkspace } from './testing/cli.js';

// The verify loop as a user runs it with the built CLI (npm run build first): draw a checklist, fill
// it in, import it, and let the answers certify auto-accept.
const dir = mkdtempSync(join(tmpdir(), 'autolabel-verify-'));
let truth: Map<string, string>;
const cli = (args: string[]): CliRun => runCli(dir, args);

const json = <T>(args: string[]): T => runCliJson<T>(dir, args);

/** The checklist's rows (generated names need no CSV quoting). */
function readChecklist(file: string): string[][] {
  return readFileSync(join(dir, file), 'utf8')
    .trim()
    .split(/\r?\n/)
    .map((line) => line.split(','));
}

/** Fills the label column: `answer(image, suggested)` gives the label, or '' to leave the row empty. */
function fill(rows: string[][], answer: (image: string, suggested: string) => string): string {
  return `${rows
    .map((r, i) => (i === 0 ? r : [r[0]!, r[1]!, r[2]!, answer(r[0]!, r[1]!), r[4]!]).join(','))
    .join('\n')}\n`;
}

interface Suggest {
  auto: number;
  threshold: number | null;
  accuracy: { estimate: number; low: number | null; high: number | null; basis: string; checks: number };
  calibratedOn: string;
  certificate: {
    certified: number;
    precisionLowerBound: number | null;
    support: number;
    next: { checks: number; images: number } | null;
  };
}

beforeAll(async () => {
  truth = await embeddedColourWorkspace(dir, 70);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verify: random checks that certify auto-accept', () => {
  it('says what to do when there is nothing to verify yet', () => {
    const result = cli(['verify', '--count', '10', '--out', 'checklist.csv']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/no suggestions to verify yet/);
  });

  it('writes a checklist of random suggestions with an empty label column', () => {
    for (const [path, label] of truth) if (/0[0-2]\.png$/.test(path)) expect(cli(['label', path, label]).code).toBe(0);
    const first = json<{ auto: number; accuracy: { basis: string } }>(['suggest', '--target-precision', '0.9']);
    expect(first.auto).toBe(0); // chosen labels certify nothing
    expect(first.accuracy.basis).toBe('chosen-labels');
    const result = cli(['verify', '--count', '60', '--seed', '3', '--out', 'checklist.csv']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Wrote .*checklist\.csv: 60 random checks/);
    const rows = readChecklist('checklist.csv');
    expect(rows[0]).toEqual(['image', 'suggested', 'confidence', 'label', 'check']);
    expect(rows).toHaveLength(61);
    const drawn = rows.slice(1).map((r) => r[0]!);
    expect(new Set(drawn).size).toBe(60);
    for (const r of rows.slice(1)) {
      expect(truth.has(r[0]!)).toBe(true);
      expect(/0[0-2]\.png$/.test(r[0]!)).toBe(false); // never an image a person labelled
      expect(Object.keys(COLOUR_CLASSES)).toContain(r[1]);
      expect(r[3]).toBe('');
    }
    // A second draw never asks about an image twice.
    expect(cli(['verify', '--count', '5', '--out', 'more.csv']).code).toBe(0);
    const more = readChecklist('more.csv').slice(1);
    for (const r of more) expect(drawn).not.toContain(r[0]);
  });

  it('refuses a checklist answer naming a class that does not exist, naming the line, importing nothing', () => {
    const rows = readChecklist('checklist.csv');
    writeFileSync(
      join(dir, 'typo.csv'),
      fill(rows, (image, suggested) => (image === rows[3]![0] ? 'Amber' : suggested)),
    );
    const result = cli(['import', 'typo.csv']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/typo\.csv: line 4: class "Amber" does not exist/);
    expect(cli(['status']).stdout).not.toMatch(/random checks [1-9]/);
  });

  it('imports the answers with their origin, ignores empty rows, and says which rows were not drawn', () => {
    const rows = readChecklist('checklist.csv');
    const skipped = rows[1]![0]!;
    const notDrawn = [...truth.keys()].find((p) => /0[3-9]\.png$/.test(p) && !rows.some((r) => r[0] === p))!;
    const text =
      fill(rows, (image) => (image === skipped ? '' : truth.get(image)!)) + `${notDrawn},,,${truth.get(notDrawn)},\n`;
    writeFileSync(join(dir, 'answers.csv'), text);
    const result = cli(['import', 'answers.csv']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Imported 60 labels/);
    expect(result.stdout).toMatch(/59 of them answer random checks/);
    expect(result.stdout).toMatch(/1 rows named images not drawn for verification: imported as ordinary labels/);
    expect(result.stdout).toMatch(/1 row without a label ignored/);
    const status = cli(['status']).stdout;
    expect(status).toMatch(/random checks 59/);
    expect(status).toMatch(/Random checks: 65 drawn, 59 answered, 0 skipped, 6 open/);
    expect(cli(['export', '--out', 'out.csv']).code).toBe(0);
    const exported = readFileSync(join(dir, 'out.csv'), 'utf8');
    expect(exported.split('\n')[0]).toBe(
      'image,label,status,confidence,origin,origin_detail,runner_up,runner_up_confidence,fit',
    );
    expect(exported).toMatch(new RegExp(`${rows[2]![0]},[a-z]+,labeled,,verify`));
  });

  it('certifies auto-accept from the checks, with an unbiased accuracy interval', () => {
    const result = json<Suggest>(['suggest', '--target-precision', '0.9']);
    expect(result.accuracy.basis).toBe('random-checks');
    expect(result.accuracy.checks).toBe(59);
    expect(result.accuracy.low).toBeLessThanOrEqual(result.accuracy.estimate);
    expect(result.accuracy.high).toBeGreaterThanOrEqual(result.accuracy.estimate);
    expect(result.certificate.certified).toBeGreaterThan(0);
    expect(result.auto).toBe(result.certificate.certified);
    expect(result.certificate.precisionLowerBound).toBeGreaterThanOrEqual(0.9);
    expect(cli(['export', '--out', 'out.csv']).code).toBe(0);
    // What was certified is right (the colours are easy): a user checking the auto rows finds no error.
    const rows = readFileSync(join(dir, 'out.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const auto = rows.filter((r) => r[2] === 'auto');
    expect(auto).toHaveLength(result.auto);
    expect(auto.filter((r) => truth.get(r[0]!) === r[1]).length / auto.length).toBeGreaterThanOrEqual(0.9);
    const text = cli(['suggest', '--target-precision', '0.9']).stdout;
    expect(text).toMatch(/Estimated accuracy \d+\.\d% \(95% CI \d+\.\d%-\d+\.\d%, from 59 random checks\)/);
    expect(text).toMatch(
      /Auto: \d+ suggestions with confidence >= [01]\.\d+, certified precision >= 9\d\.\d% at 95\.0% confidence/,
    );
  });

  it('accepts the certified set, and refuses once an answer it rested on changed', () => {
    const before = json<Suggest>(['suggest', '--target-precision', '0.9']);
    const rows = readChecklist('checklist.csv');
    const answered = rows[2]![0]!;
    // Relabelling a checked image changes the certificate's evidence.
    const other = Object.keys(COLOUR_CLASSES).find((c) => c !== truth.get(answered))!;
    expect(cli(['label', answered, other]).code).toBe(0);
    const refused = cli(['accept', '--auto']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/1 answers to random checks changed since the suggestions were made/);
    expect(cli(['label', answered, truth.get(answered)!]).code).toBe(0);
    const accepted = json<{ accepted: number }>(['accept', '--auto']);
    expect(accepted.accepted).toBe(before.auto);
    // The checks that stood for the accepted region are retired: the rest sample what is left.
    expect(cli(['status']).stdout).toMatch(/retired by accepts/);
  });
});
