/**
 * @module The README's first command ends here: generates a small folder of images (three shape
 * classes, mixed in one folder) and runs the main job on it with the CLI and the builtin model.
 *
 * npm run example [-- --out example]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRandom } from '@autolabel/core';
import sharp from 'sharp';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'example' } } });
const out = resolve(values.out ?? 'example');
const photos = join(out, 'photos');
const bin = fileURLToPath(new URL('../../packages/cli/bin/autolabel.js', import.meta.url));

const SHAPES = ['circle', 'square', 'triangle'] as const;

function svg(shape: (typeof SHAPES)[number], rand: () => number): string {
  const hue = Math.floor(rand() * 360);
  const bg = `hsl(${(hue + 180) % 360},30%,${70 + Math.floor(rand() * 20)}%)`;
  const fg = `hsl(${hue},70%,${35 + Math.floor(rand() * 20)}%)`;
  const size = 60 + rand() * 60;
  const cx = 60 + rand() * 40 + size / 4;
  const cy = 60 + rand() * 40 + size / 4;
  const body =
    shape === 'circle'
      ? `<circle cx="${cx}" cy="${cy}" r="${size / 2}" fill="${fg}"/>`
      : shape === 'square'
        ? `<rect x="${cx - size / 2}" y="${cy - size / 2}" width="${size}" height="${size}" fill="${fg}" transform="rotate(${Math.floor(rand() * 30 - 15)} ${cx} ${cy})"/>`
        : `<polygon points="${cx},${cy - size / 2} ${cx - size / 2},${cy + size / 2} ${cx + size / 2},${cy + size / 2}" fill="${fg}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="224" height="224"><rect width="224" height="224" fill="${bg}"/>${body}</svg>`;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(photos, { recursive: true });
// Seeded, so the example is the same on every machine.
const rand = seededRandom(2026);
const truth: string[] = [];
for (let i = 0; i < 36; i++) {
  const shape = SHAPES[i % SHAPES.length]!;
  const name = `img_${String(i).padStart(3, '0')}.jpg`;
  await sharp(Buffer.from(svg(shape, rand)))
    .jpeg({ quality: 85 })
    .toFile(join(photos, name));
  truth.push(`${name},${shape}`);
}
// A person labels two images of each class; the truth for all is kept for later comparison.
writeFileSync(join(out, 'labels.csv'), `image,label\n${truth.slice(0, 6).join('\n')}\n`);
writeFileSync(join(out, 'truth.csv'), `image,label\n${truth.join('\n')}\n`);
console.log(`Generated ${truth.length} images in ${photos}\n`);

function run(...args: string[]): void {
  console.log(`$ autolabel ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: out, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`autolabel ${args[0]} failed with exit status ${result.status}`);
    process.exit(result.status ?? 1);
  }
  console.log('');
}

run('init', '--images', 'photos');
run('scan');
run('embed');
run('import', 'labels.csv');
run('label', 'img_006.jpg', 'circle');
run('status');
run('next', '--count', '5');
run('suggest', '--target-precision', '0.9');
// Only random checks can certify auto-accept: draw some, answer them as the person would (here from
// the hidden truth), import the answers and ask again.
run('verify', '--count', '15', '--target-precision', '0.9', '--out', 'checklist.csv');
const answers = new Map(truth.map((line) => line.split(',') as [string, string]));
const checklist = readFileSync(join(out, 'checklist.csv'), 'utf8').trim().split(/\r?\n/);
const filled = checklist.map((line, i) => {
  if (i === 0) return line;
  const [image, suggested, confidence, , check] = line.split(',');
  return [image, suggested, confidence, answers.get(image!), check].join(',');
});
writeFileSync(join(out, 'checklist.csv'), `${filled.join('\n')}\n`);
run('import', 'checklist.csv');
run('suggest', '--target-precision', '0.9');
run('accept', '--auto');
run('export', '--format', 'csv', '--out', 'labels-export.csv');
run('report', '--out', 'report');

// How good were the suggestions? Compare with the truth the example kept aside.
const expected = new Map(truth.map((line) => line.split(',') as [string, string]));
const rows = readFileSync(join(out, 'labels-export.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
const machine = rows.map((line) => line.split(',')).filter((r) => ['auto', 'suggested', 'accepted'].includes(r[2]!));
const right = machine.filter((r) => expected.get(r[0]!) === r[1]).length;
console.log(`Suggestions and accepted labels match the hidden truth for ${right} of ${machine.length} images.`);
console.log(`Done. The workspace is ${join(out, '.autolabel')}; the report is ${join(out, 'report', 'index.html')}.`);
console.log(`Try: cd ${values.out} && npx autolabel status`);
