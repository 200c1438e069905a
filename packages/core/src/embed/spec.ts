/** @module Model specs as the embed layer names them; they are domain words, defined in domain/model-spec.ts. */
export { DEFAULT_MODEL_SPEC, formatModelSpec, parseModelSpec } from '../domain/model-spec.js';
