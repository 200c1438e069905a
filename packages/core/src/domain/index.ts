/** @module The domain floor: the words every layer shares (ids, image status, labels, skip reasons, model specs). It imports nothing, so the web app imports it too (`@autolabel/core/domain`). */
export { AUDIT_ACTIONS, AUDIT_KINDS, type AuditAction, type AuditKind } from './audit.js';
export type { ImageId } from './ids.js';
export type { ImageInputSpec } from './image-input.js';
export { HUMAN_LABEL_SOURCES, LABEL_ORIGINS, type LabelOrigin, type LabelSource } from './labels.js';
export {
  DEFAULT_MODEL_SPEC,
  formatModelSpec,
  HF_DTYPES,
  type HfDtype,
  type HfModelSpec,
  type ModelSpec,
  parseModelSpec,
} from './model-spec.js';
export { SKIP_REASONS, type SkipReason } from './skip.js';
export {
  CLASS_STATUSES,
  hasLabel,
  hasSuggestion,
  IMAGE_STATUSES,
  imageStatus,
  type ImageStatus,
  type StatusInputs,
  type SuggestionStatus,
} from './status.js';
