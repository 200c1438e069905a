/** @module Zero-shot from class names for models with a text tower (CLIP, SigLIP, MobileCLIP): prompts, text tower, scores, and the blend with the learner. */
export {
  BLEND_WEIGHTS,
  blendWithLearner,
  learnerOnly,
  zeroShotFit,
  type SuggestionFit,
  type ZeroShotInput,
  type ZeroShotRecord,
} from './blend.js';
export { classEmbeddings, type ClassEmbeddingOptions, type ClassEmbeddings } from './class-embeddings.js';
export { scoreClasses, type ScoreClassesOptions, type ScoredClasses } from './score-classes.js';
export { cosineScores, LOGIT_SCALE } from './scores.js';
export { findTextTower, TEXT_MODEL_FILE, TOKENIZER_FILE, type TextTowerLookup } from './source.js';
export { CLASS_PLACEHOLDER, checkTemplates, DEFAULT_TEMPLATES, promptsFor } from './templates.js';
export { openTextTower, type TextTower, type TextTowerFiles } from './text-tower.js';
