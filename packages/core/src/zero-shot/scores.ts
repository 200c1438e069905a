/**
 * @module Zero-shot scores: the cosine similarity of every image embedding with every class's text
 * embedding (CLIP, Radford et al. 2021), and the probabilities softmax(scale * cos / T). The image
 * embeddings must be the model's joint-space ones (CLIP's projected image_embeds, SigLIP's pooled
 * output), as the onnx: and hf: embedders store them: raw, with no transform but normalisation here.
 */
import { AutolabelError } from '../errors.js';
import { type Matrix, matrix, normalizeRows } from '../learn/matrix.js';
import type { OrtMath } from '../learn/ort-math.js';
import { embeddingRows } from '../store/embedding-rows.js';
import type { EmbeddingSet } from '../store/store.js';

/** CLIP's learned logit scale (exp of logit_scale, clipped at 100 in training): cosines times this are its logits. */
export const LOGIT_SCALE = 100;

/** cos(image i, class j), row-major [images, classes]. */
export async function cosineScores(
  math: OrtMath,
  images: Matrix | Pick<EmbeddingSet, 'dim' | 'vectors'>,
  classes: Matrix,
  tower: string,
): Promise<Float32Array> {
  // The embeddings as held (float16 stays float16 until its block is read), or a float32 matrix.
  const set = 'data' in images ? { dim: images.cols, vectors: images.data } : images;
  const cols = set.dim;
  const rowCount = set.vectors.length / Math.max(1, cols);
  if (cols !== classes.cols) {
    throw new AutolabelError(
      'MODEL_UNSUPPORTED',
      `${tower} embeds text in ${classes.cols} dimensions and the images are in ${cols}: zero-shot needs the image tower's output in the same joint space (CLIP's image_embeds)`,
    );
  }
  const unitClasses = normalizeRows(matrix(classes.rows, classes.cols, Float32Array.from(classes.data)));
  const out = new Float32Array(rowCount * classes.rows);
  // In blocks of rows, so the normalised float32 copy stays small beside the embeddings.
  for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, rowCount - start);
    const block = embeddingRows(set, start, rows);
    const scores = await math.gemm(normalizeRows(matrix(rows, cols, block)), unitClasses, false, true);
    out.set(scores.data, start * classes.rows);
  }
  return out;
}

const CHUNK_ROWS = 8192;

/** log softmax(scale * cos / temperature) of one row, written into `out` at `offset`. */
export function zeroShotLogProbabilities(
  cosine: Float32Array,
  row: number,
  classes: number,
  temperature: number,
  out: Float64Array,
  offset = 0,
): Float64Array {
  const o = row * classes;
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, (LOGIT_SCALE * cosine[o + j]!) / temperature);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp((LOGIT_SCALE * cosine[o + j]!) / temperature - max);
  const log = max + Math.log(sum);
  for (let j = 0; j < classes; j++) out[offset + j] = (LOGIT_SCALE * cosine[o + j]!) / temperature - log;
  return out;
}
