/**
 * @module The inner loops of preparing an image for a model, as WebAssembly SIMD assembled here from
 * the instruction lists below (no binary in the repository, no build step): resize.ts's linear
 * downscale (libvips' reduce: 12-bit fixed-point products of bytes, sixteen bytes at a time) and
 * bilinear upscale, tensor.ts's bytes to a model's floats, and jpeg.ts's RGBA to RGB. Each does JavaScript's arithmetic
 * (integer, or double where JavaScript's is), so gives the same bytes and floats, at a fraction of
 * the CPU of its scalar loop.
 */

// Opcodes (WebAssembly core spec, binary format; SIMD ops follow the 0xfd prefix).
const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Load: 0x28,
  i32Store: 0x36,
  i32Const: 0x41,
  i32GeS: 0x4e,
  i32Add: 0x6a,
  i32Mul: 0x6c,
} as const;
const simd = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  i16x8Splat: 0x10,
  i32x4ExtractLane: 0x1b,
  load32Zero: 0x5c,
  i8x16NarrowU: 0x66,
  i16x8NarrowU: 0x86,
  i16x8ExtendLowU: 0x89,
  i16x8ExtendHighU: 0x8a,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4ExtmulLowU: 0xbe,
  i32x4ExtmulHighU: 0xbf,
  i32x4ExtendLowU: 0xa9,
  i32x4ExtendHighU: 0xaa,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2Add: 0xf0,
  f64x2Mul: 0xf2,
  f64x2ConvertLowI32x4U: 0xff,
  f64x2Splat: 0x14,
  f64x2Sub: 0xf1,
  f64x2PromoteLowF32x4: 0x5f,
  i32x4TruncSatF64x2SZero: 0xfc,
} as const;

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A function body under construction: locals by name, instructions appended in order. */
class Body {
  readonly code: number[] = [];
  readonly #locals = new Map<string, number>();
  readonly #declared: [number, number][] = [];

  constructor(params: readonly string[]) {
    params.forEach((name, i) => this.#locals.set(name, i));
  }

  local(name: string, type: number): void {
    this.#locals.set(name, this.#locals.size);
    this.#declared.push([1, type]);
  }

  get(name: string): this {
    return this.emit(op.localGet, ...uleb(this.#index(name)));
  }

  set(name: string): this {
    return this.emit(op.localSet, ...uleb(this.#index(name)));
  }

  i32(value: number): this {
    return this.emit(op.i32Const, ...sleb(value));
  }

  /** local += value */
  add(name: string, value: number): this {
    return this.get(name).i32(value).emit(op.i32Add).set(name);
  }

  emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  v(opcode: number, ...immediates: number[]): this {
    return this.emit(0xfd, ...uleb(opcode), ...immediates);
  }

  /** `while (counter < limit) { body; counter += step }` */
  loopUntil(counter: string, limit: string, step: number, body: () => void): this {
    this.emit(op.block, 0x40, op.loop, 0x40);
    this.get(counter).get(limit).emit(op.i32GeS, op.brIf, 1);
    body();
    this.add(counter, step).emit(op.br, 0, op.end, op.end);
    return this;
  }

  bytes(): number[] {
    const locals = [...uleb(this.#declared.length), ...this.#declared.flatMap(([n, t]) => [...uleb(n), t])];
    const body = [...locals, ...this.code, op.end];
    return [...uleb(body.length), ...body];
  }

  #index(name: string): number {
    const index = this.#locals.get(name);
    if (index === undefined) throw new Error(`no local ${name}`);
    return index;
  }
}

const MEMARG_32 = [2, 0];
const MEMARG_128 = [0, 0];
const ROUNDING = Array.from({ length: 4 }, () => [0x00, 0x08, 0x00, 0x00]).flat(); // 2048 in each i32 lane

/**
 * rows(taps, n, out, len): out[i] = (2048 + sum_t weight_t * byte(rowAddress_t + i)) >> 12 for i < len
 * (in steps of 16: up to 15 bytes past len are written too), taps being n pairs of i32 (row
 * address, weight): reducev.cpp's inner loop.
 */
function rowsBody(): number[] {
  const b = new Body(['taps', 'n', 'out', 'len']);
  for (const name of ['i', 'k', 'tap']) b.local(name, I32);
  for (const name of ['acc0', 'acc1', 'acc2', 'acc3', 'w', 'lo', 'hi']) b.local(name, V128);
  b.i32(0).set('i');
  b.loopUntil('i', 'len', 16, () => {
    for (const acc of ['acc0', 'acc1', 'acc2', 'acc3']) b.v(simd.const, ...ROUNDING).set(acc);
    b.get('taps').set('tap');
    b.i32(0).set('k');
    b.loopUntil('k', 'n', 1, () => {
      b.get('tap').emit(op.i32Load, 2, 4).v(simd.i16x8Splat).set('w');
      b.get('tap')
        .emit(op.i32Load, ...MEMARG_32)
        .get('i')
        .emit(op.i32Add)
        .v(simd.load, ...MEMARG_128);
      b.set('hi').get('hi').v(simd.i16x8ExtendLowU).set('lo').get('hi').v(simd.i16x8ExtendHighU).set('hi');
      const pairs: [string, string, number][] = [
        ['acc0', 'lo', simd.i32x4ExtmulLowU],
        ['acc1', 'lo', simd.i32x4ExtmulHighU],
        ['acc2', 'hi', simd.i32x4ExtmulLowU],
        ['acc3', 'hi', simd.i32x4ExtmulHighU],
      ];
      for (const [acc, half, mul] of pairs) b.get(acc).get(half).get('w').v(mul).v(simd.i32x4Add).set(acc);
      b.add('tap', 8);
    });
    b.get('out').get('i').emit(op.i32Add);
    for (const [x, y] of [
      ['acc0', 'acc1'],
      ['acc2', 'acc3'],
    ]) {
      b.get(x!).i32(12).v(simd.i32x4ShrU).get(y!).i32(12).v(simd.i32x4ShrU).v(simd.i16x8NarrowU);
    }
    b.v(simd.i8x16NarrowU).v(simd.store, ...MEMARG_128);
  });
  return b.bytes();
}

/**
 * cols(taps, n, src, stride, height, width, out): for each of `height` rows of `stride` bytes and
 * each of `width` output pixels, the n taps (i32 byte offset in the row, weight) of that pixel summed
 * over its three channels, rounded as rows() does, written as 3 bytes (and one byte of slack past
 * them): reduceh.cpp's inner loop.
 */
function colsBody(): number[] {
  const b = new Body(['taps', 'n', 'src', 'stride', 'height', 'width', 'out']);
  for (const name of ['y', 'x', 'k', 'tap', 'row']) b.local(name, I32);
  for (const name of ['acc']) b.local(name, V128);
  b.i32(0).set('y');
  b.loopUntil('y', 'height', 1, () => {
    b.get('src').get('y').get('stride').emit(op.i32Mul, op.i32Add).set('row');
    b.get('taps').set('tap');
    b.i32(0).set('x');
    b.loopUntil('x', 'width', 1, () => {
      b.v(simd.const, ...ROUNDING).set('acc');
      b.i32(0).set('k');
      b.loopUntil('k', 'n', 1, () => {
        b.get('acc');
        b.get('row')
          .get('tap')
          .emit(op.i32Load, ...MEMARG_32)
          .emit(op.i32Add)
          .v(simd.load32Zero, ...MEMARG_32);
        b.v(simd.i16x8ExtendLowU);
        b.get('tap').emit(op.i32Load, 2, 4).v(simd.i16x8Splat);
        b.v(simd.i32x4ExtmulLowU).v(simd.i32x4Add).set('acc');
        b.add('tap', 8);
      });
      b.get('acc').i32(12).v(simd.i32x4ShrU).set('acc');
      b.get('acc').get('acc').v(simd.i16x8NarrowU).set('acc');
      b.get('out').get('acc').get('acc').v(simd.i8x16NarrowU).v(simd.i32x4ExtractLane, 0).emit(op.i32Store, 0, 0);
      b.add('out', 3);
    });
  });
  return b.bytes();
}

/** Lanes of an i8x16.shuffle: lane k of the result is byte picks[k] of the two operands (16 and up: the second). */
const lanes = (picks: (k: number) => number): number[] => Array.from({ length: 16 }, (_, k) => picks(k));
/** The low 8 bytes of each operand side by side (two f32 pairs, or the high pair of one i32x4 moved down). */
const LOW_HALVES = lanes((k) => (k < 8 ? k : k + 8));
const HIGH_HALF = lanes((k) => 8 + (k % 8));

/**
 * floats(src, n, out, pattern): out[j] = f32(f64(byte(src + j)) * scale[j % 6] + offset[j % 6]) for
 * j < n, in steps of 48 (up to 47 values past n are written too), `pattern` holding three f64 pairs
 * of scales and then three of offsets: a model's normalisation, in the same double arithmetic as
 * JavaScript's `v * scale + offset` stored into a Float32Array (the same floats as tensorLut's).
 */
function floatsBody(): number[] {
  const b = new Body(['src', 'n', 'out', 'pattern']);
  for (const name of ['j', 'o']) b.local(name, I32);
  const constants = ['s0', 's1', 's2', 'f0', 'f1', 'f2'];
  for (const name of [...constants, 'v', 'h', 'q']) b.local(name, V128);
  constants.forEach((name, k) =>
    b
      .get('pattern')
      .v(simd.load, 0, ...uleb(16 * k))
      .set(name),
  );
  b.i32(0).set('j');
  b.get('out').set('o');
  b.loopUntil('j', 'n', 48, () => {
    for (let part = 0; part < 3; part++) {
      b.get('src')
        .get('j')
        .emit(op.i32Add)
        .v(simd.load, 0, ...uleb(16 * part))
        .set('v');
      for (let half = 0; half < 2; half++) {
        b.get('v')
          .v(half ? simd.i16x8ExtendHighU : simd.i16x8ExtendLowU)
          .set('h');
        for (let quarter = 0; quarter < 2; quarter++) {
          const first = part * 16 + half * 8 + quarter * 4; // value index of lane 0 in this step
          b.get('h')
            .v(quarter ? simd.i32x4ExtendHighU : simd.i32x4ExtendLowU)
            .set('q');
          b.get('o');
          for (const pair of [0, 1]) {
            const k = (first / 2 + pair) % 3;
            b.get('q');
            if (pair) b.get('q').v(simd.shuffle, ...HIGH_HALF);
            b.v(simd.f64x2ConvertLowI32x4U);
            b.get(`s${k}`).v(simd.f64x2Mul).get(`f${k}`).v(simd.f64x2Add).v(simd.f32x4DemoteF64x2Zero);
          }
          b.v(simd.shuffle, ...LOW_HALVES).v(simd.store, 0, ...uleb(4 * first));
        }
      }
    }
    b.add('o', 4 * 48);
  });
  return b.bytes();
}

/**
 * planes(src, pixels, out, stride): packed RGB at src split into three byte planes at out,
 * out + stride and out + 2 * stride, 16 pixels a step (up to 15 past `pixels` are written too).
 */
function planesBody(): number[] {
  const b = new Body(['src', 'pixels', 'out', 'stride']);
  for (const name of ['p', 'at', 'to']) b.local(name, I32);
  for (const name of ['v0', 'v1', 'v2']) b.local(name, V128);
  b.i32(0).set('p');
  b.get('src').set('at');
  b.loopUntil('p', 'pixels', 16, () => {
    ['v0', 'v1', 'v2'].forEach((name, k) =>
      b
        .get('at')
        .v(simd.load, 0, ...uleb(16 * k))
        .set(name),
    );
    b.get('out').get('p').emit(op.i32Add).set('to');
    for (let c = 0; c < 3; c++) {
      // Pixel k's channel c is byte 3k + c of the 48: from v0 and v1 first, then v2 fills the rest.
      const byte = (k: number): number => 3 * k + c;
      b.get('to')
        .get('v0')
        .get('v1')
        .v(simd.shuffle, ...lanes((k) => (byte(k) < 32 ? byte(k) : 0)));
      b.get('v2').v(simd.shuffle, ...lanes((k) => (byte(k) < 32 ? k : byte(k) - 16)));
      b.v(simd.store, ...MEMARG_128);
      b.get('to').get('stride').emit(op.i32Add).set('to');
    }
    b.add('at', 48);
  });
  return b.bytes();
}

/**
 * pack(src, pixels, out): RGBA at src to packed RGB at out (alpha dropped), 16 pixels a step (up
 * to 15 past `pixels` are read and written too).
 */
function packBody(): number[] {
  const b = new Body(['src', 'pixels', 'out']);
  b.local('p', I32);
  b.i32(0).set('p');
  b.loopUntil('p', 'pixels', 16, () => {
    for (let k = 0; k < 3; k++) {
      // RGB byte j is byte 4 * floor(j / 3) + j % 3 of the RGBA; output vector k takes them from inputs k and k + 1.
      const source = (j: number): number => 4 * Math.floor(j / 3) + (j % 3);
      b.get('out').get('p').i32(3).emit(op.i32Mul, op.i32Add);
      for (const input of [k, k + 1]) {
        b.get('src')
          .get('p')
          .i32(4)
          .emit(op.i32Mul, op.i32Add)
          .v(simd.load, 0, ...uleb(16 * input));
      }
      b.v(simd.shuffle, ...lanes((l) => source(16 * k + l) - 16 * k)).v(simd.store, 0, ...uleb(16 * k));
    }
  });
  return b.bytes();
}

const HALVES = Array.from(new Uint8Array(Float64Array.of(0.5, 0.5).buffer)); // 0.5 in each f64 lane

/**
 * lerp(top, bottom, w, out, len): out[i] = trunc(t + (b - t) * w + 0.5) for the float32 values
 * t = top[i] and b = bottom[i], i < len, in steps of 16 (up to 15 bytes past len are written
 * too): resize.ts's bilinear vertical pass, in the same double arithmetic as its JavaScript.
 */
function lerpBody(): number[] {
  const b = new Body(['top', 'bottom', 'w', 'out', 'len']);
  for (const name of ['i', 'at']) b.local(name, I32);
  for (const name of ['weight', 'half', 't', 'd', 'q0', 'q1', 'q2', 'q3']) b.local(name, V128);
  b.get('w').v(simd.f64x2Splat).set('weight');
  b.v(simd.const, ...HALVES).set('half');
  b.i32(0).set('i');
  b.loopUntil('i', 'len', 16, () => {
    b.get('i').i32(4).emit(op.i32Mul).set('at');
    for (let quad = 0; quad < 4; quad++) {
      for (const pair of [0, 1]) {
        // t + (b - t) * w + 0.5 for two lanes (the quad's low or high pair), as doubles: a float32 promotes exactly.
        const promoted = (row: string, scratch: string): void => {
          b.get(row)
            .get('at')
            .emit(op.i32Add)
            .v(simd.load, 0, ...uleb(16 * quad));
          if (pair)
            b.set(scratch)
              .get(scratch)
              .get(scratch)
              .v(simd.shuffle, ...HIGH_HALF);
          b.v(simd.f64x2PromoteLowF32x4);
        };
        promoted('top', 't');
        b.set('t');
        promoted('bottom', 'd');
        b.get('t').v(simd.f64x2Sub).get('weight').v(simd.f64x2Mul);
        b.get('t').v(simd.f64x2Add).get('half').v(simd.f64x2Add).v(simd.i32x4TruncSatF64x2SZero);
      }
      b.v(simd.shuffle, ...LOW_HALVES).set(`q${quad}`);
    }
    b.get('out').get('i').emit(op.i32Add);
    b.get('q0').get('q1').v(simd.i16x8NarrowU).get('q2').get('q3').v(simd.i16x8NarrowU).v(simd.i8x16NarrowU);
    b.v(simd.store, ...MEMARG_128);
  });
  return b.bytes();
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const name = (text: string): number[] => [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];

function moduleBytes(): Uint8Array {
  const fourType = [0x60, 4, I32, I32, I32, I32, 0];
  const colsType = [0x60, 7, I32, I32, I32, I32, I32, I32, I32, 0];
  const lerpType = [0x60, 5, I32, I32, F64, I32, I32, 0];
  const threeType = [0x60, 3, I32, I32, I32, 0];
  // Functions: rows, cols, floats, planes, lerp, pack (types 0, 1, 0, 0, 2, 3).
  const bodies = [rowsBody(), colsBody(), floatsBody(), planesBody(), lerpBody(), packBody()];
  const names = ['rows', 'cols', 'floats', 'planes', 'lerp', 'pack'];
  const exported = names.flatMap((text, i) => [...name(text), 0, i]);
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [4, ...fourType, ...colsType, ...lerpType, ...threeType]),
    ...section(3, [6, 0, 1, 0, 0, 2, 3]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [7, ...exported, ...name('memory'), 2, 0]),
    ...section(10, [6, ...bodies.flat()]),
  ]);
}

/** The few WebAssembly names used here (the compiler's libraries in this project do not declare them). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
}

export interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  rows(taps: number, n: number, out: number, len: number): void;
  cols(taps: number, n: number, src: number, stride: number, height: number, width: number, out: number): void;
  floats(src: number, n: number, out: number, pattern: number): void;
  planes(src: number, pixels: number, out: number, stride: number): void;
  lerp(top: number, bottom: number, w: number, out: number, len: number): void;
  pack(src: number, pixels: number, out: number): void;
}

/**
 * The kernels of this thread, compiled at first use (about 400 bytes of code; well under a
 * millisecond) and kept, like compiled JavaScript: calls are synchronous, so one memory serves all.
 */
let kernels: Exports | null | undefined;

export function reduceKernels(): Exports {
  if (!reduceKernelsAvailable() || !kernels) throw new Error('WebAssembly SIMD is not available');
  return kernels;
}

/** The kernels, their memory grown to at least `bytes` (it only grows; what it holds stays). */
export function kernelsWithMemory(bytes: number): Exports {
  const found = reduceKernels();
  const grow = bytes - found.memory.buffer.byteLength;
  if (grow > 0) found.memory.grow(Math.ceil(grow / 65536));
  return found;
}

/** `at` rounded up to a 64-byte boundary, where the kernels' next region starts. */
export const alignKernelAddress = (at: number): number => Math.ceil(at / 64) * 64;

/** Whether this runtime runs the kernels (WebAssembly with 128-bit SIMD: Node 16.4 and later on x64 and arm64). */
export function reduceKernelsAvailable(): boolean {
  if (kernels === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      kernels = new wasm.Instance(new wasm.Module(moduleBytes())).exports as Exports;
    } catch {
      kernels = null;
    }
  }
  return kernels !== null;
}
