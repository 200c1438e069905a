/** @module Multinomial logistic regression with soft targets and sample weights, fitted by L-BFGS (Liu & Nocedal 1989). */
import { type Matrix, matrix } from './matrix.js';
import type { OrtMath } from './ort-math.js';

export interface LinearHead {
  readonly dim: number;
  readonly classes: number;
  /** Row-major [dim, classes]. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

export interface LogisticOptions {
  /** L2 penalty on the weights (not the bias), per unit of total sample weight. */
  readonly l2?: number;
  readonly maxIterations?: number;
  /** Per-row weights; default 1. */
  readonly sampleWeights?: Float32Array;
  /** Start from these parameters (warm start after a small change of the data). */
  readonly start?: LinearHead;
}

/**
 * `targets` is row-major [rows, classes]: a distribution over classes per row (one-hot for hard labels).
 * With `math`, the two products per step (logits, gradient) run in onnxruntime: ~20x faster at 1024-d.
 */
export async function trainLogistic(
  x: Matrix,
  targets: Float32Array,
  classes: number,
  options: LogisticOptions & { readonly math?: OrtMath } = {},
): Promise<LinearHead> {
  const n = x.rows;
  const d = x.cols;
  const c = classes;
  const l2 = options.l2 ?? 1e-3;
  const sw = options.sampleWeights;
  let total = 0;
  for (let i = 0; i < n; i++) total += sw ? sw[i]! : 1;
  if (total <= 0) throw new RangeError('logistic regression needs a positive total sample weight');
  const size = d * c + c;
  const params = new Float64Array(size);
  if (options.start) {
    params.set(options.start.weights);
    params.set(options.start.bias, d * c);
  }
  const math = options.math;
  const problem: Problem = { x, targets, classes: c, sampleWeights: sw, totalWeight: total, l2 };
  const objective: Objective = math
    ? (theta, grad) => ortObjective(math, problem, theta, grad)
    : (theta, grad) => jsObjective(problem, theta, grad);
  await minimizeLbfgs(objective, params, options.maxIterations ?? 200);
  return {
    dim: d,
    classes: c,
    weights: Float32Array.from(params.subarray(0, d * c)),
    bias: Float32Array.from(params.subarray(d * c)),
  };
}

/** What the loss is over: rows, soft targets, row weights (summing to `totalWeight`) and the penalty. */
interface Problem {
  readonly x: Matrix;
  readonly targets: Float32Array;
  readonly classes: number;
  readonly sampleWeights: Float32Array | undefined;
  readonly totalWeight: number;
  readonly l2: number;
}

/** Loss and gradient in plain loops: no setup cost, best for small problems. */
function jsObjective(problem: Problem, theta: Float64Array, grad: Float64Array): number {
  const { x, targets, classes: c, sampleWeights: sw, totalWeight: total, l2 } = problem;
  const n = x.rows;
  const d = x.cols;
  const logits = new Float64Array(c);
  grad.fill(0);
  let loss = 0;
  const X = x.data;
  for (let i = 0; i < n; i++) {
    const wi = (sw ? sw[i]! : 1) / total;
    if (wi === 0) continue;
    const xo = i * d;
    for (let j = 0; j < c; j++) logits[j] = theta[d * c + j]!;
    for (let t = 0; t < d; t++) {
      const v = X[xo + t]!;
      if (v === 0) continue;
      const wo = t * c;
      for (let j = 0; j < c; j++) logits[j]! += v * theta[wo + j]!;
    }
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, logits[j]!);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(logits[j]! - max);
    const logSum = max + Math.log(sum);
    for (let j = 0; j < c; j++) {
      const target = targets[i * c + j]!;
      const p = Math.exp(logits[j]! - logSum);
      if (target > 0) loss -= wi * target * (logits[j]! - logSum);
      logits[j] = wi * (p - target); // now the gradient w.r.t. this row's logits
    }
    for (let t = 0; t < d; t++) {
      const v = X[xo + t]!;
      if (v === 0) continue;
      const wo = t * c;
      for (let j = 0; j < c; j++) grad[wo + j]! += v * logits[j]!;
    }
    for (let j = 0; j < c; j++) grad[d * c + j]! += logits[j]!;
  }
  return loss + penalty(theta, grad, d * c, l2);
}

/** The same loss and gradient with X W and X^T G as onnxruntime products. */
async function ortObjective(math: OrtMath, problem: Problem, theta: Float64Array, grad: Float64Array): Promise<number> {
  const { x, targets, classes: c, sampleWeights: sw, totalWeight: total, l2 } = problem;
  const n = x.rows;
  const d = x.cols;
  const weights = matrix(d, c, Float32Array.from(theta.subarray(0, d * c)));
  const logits = (await math.gemm(x, weights)).data;
  const g = new Float32Array(n * c);
  const biasGrad = new Float64Array(c);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const wi = (sw ? sw[i]! : 1) / total;
    const o = i * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) {
      logits[o + j]! += theta[d * c + j]!;
      max = Math.max(max, logits[o + j]!);
    }
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(logits[o + j]! - max);
    const logSum = max + Math.log(sum);
    for (let j = 0; j < c; j++) {
      const target = targets[o + j]!;
      if (target > 0) loss -= wi * target * (logits[o + j]! - logSum);
      const gj = wi * (Math.exp(logits[o + j]! - logSum) - target);
      g[o + j] = gj;
      biasGrad[j]! += gj;
    }
  }
  const weightGrad = (await math.gemm(x, matrix(n, c, g), true)).data;
  for (let p = 0; p < d * c; p++) grad[p] = weightGrad[p]!;
  for (let j = 0; j < c; j++) grad[d * c + j] = biasGrad[j]!;
  return loss + penalty(theta, grad, d * c, l2);
}

/** Adds the L2 penalty on the first `count` parameters (the weights) to the gradient; returns its value. */
function penalty(theta: Float64Array, grad: Float64Array, count: number, l2: number): number {
  let value = 0;
  for (let p = 0; p < count; p++) {
    value += 0.5 * l2 * theta[p]! * theta[p]!;
    grad[p]! += l2 * theta[p]!;
  }
  return value;
}

/** Row-major [rows, classes] logits x W + b. */
export function headLogits(head: LinearHead, x: Matrix): Float32Array {
  const { dim: d, classes: c } = head;
  if (x.cols !== d) throw new RangeError(`head expects ${d}-d features, got ${x.cols}`);
  const out = new Float32Array(x.rows * c);
  const row = new Float64Array(c);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < c; j++) row[j] = head.bias[j]!;
    const xo = i * d;
    for (let t = 0; t < d; t++) {
      const v = x.data[xo + t]!;
      if (v === 0) continue;
      const wo = t * c;
      for (let j = 0; j < c; j++) row[j]! += v * head.weights[wo + j]!;
    }
    for (let j = 0; j < c; j++) out[i * c + j] = row[j]!;
  }
  return out;
}

/** Softmax of each row of `logits / temperature`, in place. */
export function softmaxRows(logits: Float32Array, classes: number, temperature = 1): Float32Array {
  for (let o = 0; o < logits.length; o += classes) {
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[o + j]! / temperature);
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const e = Math.exp(logits[o + j]! / temperature - max);
      logits[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < classes; j++) logits[o + j]! /= sum;
  }
  return logits;
}

type Objective = (x: Float64Array, grad: Float64Array) => number | Promise<number>;

/** Limited-memory BFGS with a backtracking Armijo line search; updates `x` in place, returns the final loss. */
export async function minimizeLbfgs(
  f: Objective,
  x: Float64Array,
  maxIterations: number,
  memory = 10,
): Promise<number> {
  const n = x.length;
  const grad = new Float64Array(n);
  let loss = await f(x, grad);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const direction = new Float64Array(n);
  const nextX = new Float64Array(n);
  const nextGrad = new Float64Array(n);
  const alphas = new Float64Array(memory);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    // Two-loop recursion: direction = -H grad.
    direction.set(grad);
    for (let m = s.length - 1; m >= 0; m--) {
      alphas[m] = rho[m]! * dot(s[m]!, direction);
      axpy(-alphas[m]!, y[m]!, direction);
    }
    if (s.length > 0) {
      const last = s.length - 1;
      scale(direction, dot(s[last]!, y[last]!) / dot(y[last]!, y[last]!));
    } else {
      scale(direction, 1 / Math.max(1, Math.sqrt(dot(grad, grad))));
    }
    for (let m = 0; m < s.length; m++) {
      const beta = rho[m]! * dot(y[m]!, direction);
      axpy(alphas[m]! - beta, s[m]!, direction);
    }
    scale(direction, -1);
    let slope = dot(grad, direction);
    if (slope >= 0) {
      // Not a descent direction: restart from steepest descent.
      s.length = y.length = rho.length = 0;
      direction.set(grad);
      scale(direction, -1 / Math.max(1, Math.sqrt(dot(grad, grad))));
      slope = dot(grad, direction);
    }
    let step = 1;
    let nextLoss = Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < n; i++) nextX[i] = x[i]! + step * direction[i]!;
      nextLoss = await f(nextX, nextGrad);
      if (nextLoss <= loss + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(nextLoss < loss)) break;
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = nextX[i]! - x[i]!;
      yk[i] = nextGrad[i]! - grad[i]!;
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      if (s.length === memory) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
    }
    const improvement = loss - nextLoss;
    x.set(nextX);
    grad.set(nextGrad);
    loss = nextLoss;
    if (improvement < 1e-9 * Math.max(1, Math.abs(loss)) || Math.sqrt(dot(grad, grad)) < 1e-6) break;
  }
  return loss;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

function scale(x: Float64Array, alpha: number): void {
  for (let i = 0; i < x.length; i++) x[i]! *= alpha;
}
