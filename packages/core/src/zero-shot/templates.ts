/**
 * @module Prompt templates: how a class name becomes the sentences a text tower embeds. Several
 * templates per class, their embeddings averaged, is CLIP's prompt ensembling (Radford et al. 2021,
 * section 3.1.4): a bare word is ambiguous, "a photo of a {}." says it names what the picture shows.
 */
import { AutolabelError } from '../errors.js';

/** A small ensemble from CLIP's ImageNet prompts. */
export const DEFAULT_TEMPLATES: readonly string[] = [
  'a photo of a {}.',
  'a photo of the {}.',
  'a close-up photo of a {}.',
  'a good photo of a {}.',
];

/** The placeholder a template's class name goes into. */
export const CLASS_PLACEHOLDER = '{}';

/** Templates as given, checked: at least one, each naming the class once or more. */
export function checkTemplates(templates: readonly string[], where = 'templates'): readonly string[] {
  if (templates.length === 0) throw new AutolabelError('INVALID_ARGUMENT', `${where}: give at least one template`);
  for (const template of templates) {
    if (!template.includes(CLASS_PLACEHOLDER)) {
      throw new AutolabelError(
        'INVALID_ARGUMENT',
        `${where}: template "${template}" has no ${CLASS_PLACEHOLDER} for the class name (e.g. "a photo of a {}.")`,
      );
    }
  }
  return templates;
}

/** The sentences for one class: its name (underscores read as spaces, as in folder names) in each template. */
export function promptsFor(className: string, templates: readonly string[]): string[] {
  const name = className.replace(/_+/g, ' ').trim();
  return templates.map((template) => template.split(CLASS_PLACEHOLDER).join(name));
}
