/**
 * @module The README's first command ends here: generates a small folder of images (three shape
 * classes, mixed in one folder) and runs the main job on it with the CLI and the builtin model.
 *
 * npm run example [-- --out example]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'example' } } });
const out = resolve(values.out ?? 'example');
const photos = join(out, 'photos');
const bin = fileURLToPath(new URL('../../packages/cli/bin/autolabel.js', import.meta.url));

/** Mulberry32, so the example is the same on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
const rand = random(2026);
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
run('export', '--format', 'csv', '--out', 'labels-export.csv');
console.log(`Done. The workspace is ${join(out, '.autolabel')}; try: cd ${values.out} && npx autolabel status`);
