/** @module Model specs: the strings that name a model (`onnx:PATH`, `builtin:NAME`). */
import type { ModelSpec } from '../domain/index.js';
import { AutolabelError } from '../errors.js';

export const DEFAULT_MODEL_SPEC = 'builtin:centernet';

export function parseModelSpec(spec: string): ModelSpec {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? '' : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  if (kind === 'onnx' && rest.length > 0) return { kind: 'onnx', path: rest };
  if (kind === 'builtin' && rest.length > 0) return { kind: 'builtin', name: rest };
  throw new AutolabelError(
    'MODEL_SPEC_INVALID',
    `model spec "${spec}" is not understood: use onnx:PATH (a folder with model.onnx and preprocessor_config.json) or builtin:NAME (e.g. ${DEFAULT_MODEL_SPEC})`,
  );
}

export function formatModelSpec(spec: ModelSpec): string {
  return spec.kind === 'onnx' ? `onnx:${spec.path}` : `builtin:${spec.name}`;
}
