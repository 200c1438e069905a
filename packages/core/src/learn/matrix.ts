/** @module Dense row-major float32 matrices and the row-wise transforms the learners share. */

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major, `rows * cols` long. */
  readonly data: Float32Array;
}

export function matrix(rows: number, cols: number, data: Float32Array = new Float32Array(rows * cols)): Matrix {
  if (data.length !== rows * cols)
    throw new RangeError(`matrix ${rows}x${cols} needs ${rows * cols} values, got ${data.length}`);
  return { rows, cols, data };
}

export function rowOf(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** A new matrix holding the given rows, in order. */
export function selectRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const out = new Float32Array(rows.length * m.cols);
  for (let r = 0; r < rows.length; r++) out.set(rowOf(m, rows[r]!), r * m.cols);
  return matrix(rows.length, m.cols, out);
}

/** Scales each row to unit L2 norm in place (zero rows stay zero). */
export function normalizeRows(m: Matrix): Matrix {
  const { cols, data } = m;
  for (let i = 0; i < m.rows; i++) {
    const o = i * cols;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += data[o + j]! * data[o + j]!;
    if (sum === 0) continue;
    const scale = 1 / Math.sqrt(sum);
    for (let j = 0; j < cols; j++) data[o + j]! *= scale;
  }
  return m;
}

export function columnMeans(m: Matrix): Float64Array {
  const means = new Float64Array(m.cols);
  const { cols, data } = m;
  for (let i = 0; i < m.rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) means[j]! += data[o + j]!;
  }
  for (let j = 0; j < cols; j++) means[j]! /= Math.max(1, m.rows);
  return means;
}

export function subtractFromRows(m: Matrix, v: ArrayLike<number>): Matrix {
  const { cols, data } = m;
  for (let i = 0; i < m.rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) data[o + j]! -= v[j]!;
  }
  return m;
}

/** Signed power x -> sign(x)|x|^p in place: evens out the heavy tails of pooled ReLU features (Hu et al. 2021, PT-MAP). */
export function powerTransform(m: Matrix, p: number): Matrix {
  const { data } = m;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    data[i] = x < 0 ? -Math.pow(-x, p) : Math.pow(x, p);
  }
  return m;
}

/** C = A * B (or A * B^T), plain loops; for small operands, big ones go through `OrtMath`. */
export function multiply(a: Matrix, b: Matrix, transposeB = false): Matrix {
  const n = a.rows;
  const k = a.cols;
  const m = transposeB ? b.rows : b.cols;
  if ((transposeB ? b.cols : b.rows) !== k)
    throw new RangeError(`cannot multiply ${a.rows}x${a.cols} by ${b.rows}x${b.cols}${transposeB ? "'" : ''}`);
  const out = new Float32Array(n * m);
  const A = a.data;
  const B = b.data;
  if (transposeB) {
    for (let i = 0; i < n; i++) {
      const ai = i * k;
      for (let j = 0; j < m; j++) {
        const bj = j * k;
        let sum = 0;
        for (let t = 0; t < k; t++) sum += A[ai + t]! * B[bj + t]!;
        out[i * m + j] = sum;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const oi = i * m;
      for (let t = 0; t < k; t++) {
        const x = A[i * k + t]!;
        if (x === 0) continue;
        const bt = t * m;
        for (let j = 0; j < m; j++) out[oi + j]! += x * B[bt + j]!;
      }
    }
  }
  return matrix(n, m, out);
}
