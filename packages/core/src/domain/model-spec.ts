/**
 * @module Model specs: what names a model, an ONNX folder (`onnx:PATH`), a built-in one
 * (`builtin:NAME`) or a Hugging Face hub repository (`hf:REPO[@REVISION][:DTYPE]`), and the one
 * way to read and write them.
 */
import { AutolabelError } from '../errors.js';

/**
 * Weight types of the ONNX files a hub repository may hold (transformers.js names; the file suffix
 * is `_fp16`, `_quantized` for q8, `_int8`, ...). fp32 is the plain `model.onnx`.
 */
export const HF_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type HfDtype = (typeof HF_DTYPES)[number];

export type ModelSpec =
  { readonly kind: 'onnx'; readonly path: string } | { readonly kind: 'builtin'; readonly name: string } | HfModelSpec;

/** A model from the Hugging Face hub (or a mirror): `repo` like `Xenova/clip-vit-base-patch32`. */
export interface HfModelSpec {
  readonly kind: 'hf';
  readonly repo: string;
  /** Branch, tag or commit; `main` unless the spec says otherwise. */
  readonly revision: string;
  readonly dtype: HfDtype;
}

export const DEFAULT_MODEL_SPEC = 'builtin:centernet';

/** `owner/name` as the hub allows it (letters, digits, `-`, `_`, `.`; no `--` or `..`). */
const REPO = /^[\w.-]{1,96}\/[\w.-]{1,96}$/;
/** A git ref or commit: no spaces, `:`, `..`, or control characters (git check-ref-format forbids them too). */
const REVISION = /^[\w./-]{1,200}$/;

const FORMS = `use onnx:PATH (a folder with model.onnx and preprocessor_config.json), builtin:NAME (e.g. ${DEFAULT_MODEL_SPEC}) or hf:OWNER/NAME[@REVISION][:DTYPE] (a Hugging Face hub model, e.g. hf:Xenova/clip-vit-base-patch32)`;

export function parseModelSpec(spec: string): ModelSpec {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? '' : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  if (kind === 'onnx' && rest.length > 0) return { kind: 'onnx', path: rest };
  if (kind === 'builtin' && rest.length > 0) return { kind: 'builtin', name: rest };
  if (kind === 'hf' && rest.length > 0) return parseHfSpec(spec, rest);
  throw new AutolabelError('MODEL_SPEC_INVALID', `model spec "${spec}" is not understood: ${FORMS}`);
}

/** `REPO[@REVISION][:DTYPE]`, the dtype last like llama.cpp's `-hf repo:quant`. */
function parseHfSpec(spec: string, rest: string): HfModelSpec {
  const dtypeAt = rest.lastIndexOf(':');
  const dtype = dtypeAt < 0 ? 'fp32' : rest.slice(dtypeAt + 1);
  const name = dtypeAt < 0 ? rest : rest.slice(0, dtypeAt);
  const revisionAt = name.indexOf('@');
  const repo = revisionAt < 0 ? name : name.slice(0, revisionAt);
  const revision = revisionAt < 0 ? 'main' : name.slice(revisionAt + 1);
  const invalid = (why: string): AutolabelError =>
    new AutolabelError('MODEL_SPEC_INVALID', `model spec "${spec}": ${why}`);
  if (!REPO.test(repo) || repo.includes('--') || repo.includes('..')) {
    throw invalid(`"${repo}" is not a hub repository id (OWNER/NAME, e.g. Xenova/clip-vit-base-patch32)`);
  }
  if (!REVISION.test(revision) || revision.includes('..')) {
    throw invalid(`"${revision}" is not a revision (a branch, tag or commit)`);
  }
  if (!(HF_DTYPES as readonly string[]).includes(dtype)) {
    throw invalid(`dtype "${dtype}" is not one of ${HF_DTYPES.join(', ')}`);
  }
  return { kind: 'hf', repo, revision, dtype: dtype as HfDtype };
}

/** The canonical string: `@main` and `:fp32` are left out, so equal models have equal specs. */
export function formatModelSpec(spec: ModelSpec): string {
  if (spec.kind === 'onnx') return `onnx:${spec.path}`;
  if (spec.kind === 'builtin') return `builtin:${spec.name}`;
  const revision = spec.revision === 'main' ? '' : `@${spec.revision}`;
  const dtype = spec.dtype === 'fp32' ? '' : `:${spec.dtype}`;
  return `hf:${spec.repo}${revision}${dtype}`;
}
