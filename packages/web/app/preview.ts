/**
 * @module A full-size preview of one image over the page, as Quick Look does it: the image file, and
 * what Autolabel says about it (its suggestion and the runner-up with their confidences, or its label
 * and how it came about). Space or Escape closes it, the arrow keys ask the host for the next or
 * previous image. Any view can own one: it appends `element` and passes keys to `onKey` first.
 */
import type { ImageItem, LabelOrigin } from '@autolabel/core';
import { h, percent } from './dom.js';

/** How a person's label came about, in the preview's words. */
const ORIGIN_WORDS: Readonly<Record<LabelOrigin, string>> = {
  verify: 'labelled in a random check',
  next: 'labelled as recommended by Label next',
  chosen: 'labelled by hand',
  import: 'imported label',
};

/** What the preview says about an image: its status, the class and confidence, and the runner-up for suggestions. */
export interface PreviewFacts {
  /** 'Suggested', 'Certified suggestion', 'Accepted suggestion', 'Labeled', 'Unlabeled'. */
  readonly heading: string;
  readonly label: string | null;
  readonly confidence: string | null;
  readonly runnerUp: string | null;
  readonly runnerUpConfidence: string | null;
  /** How a person's label came about, or what an unlabelled image lacks. */
  readonly note: string | null;
}

type Facts = Pick<ImageItem, 'status' | 'label' | 'confidence' | 'runnerUp' | 'runnerUpConfidence' | 'origin'>;

/** The preview's words for an image. Pure. */
export function previewFacts(item: Facts): PreviewFacts {
  const suggestion = item.status === 'suggested' || item.status === 'auto';
  const heading = {
    suggested: 'Suggested',
    auto: 'Certified suggestion',
    accepted: 'Accepted suggestion',
    labeled: 'Labeled',
    unlabeled: 'Unlabeled',
  }[item.status];
  return {
    heading,
    label: item.label,
    confidence: item.confidence === null ? null : percent(item.confidence),
    runnerUp: suggestion ? item.runnerUp : null,
    runnerUpConfidence: suggestion && item.runnerUp !== null ? percent(item.runnerUpConfidence) : null,
    note:
      item.status === 'labeled' && item.origin
        ? ORIGIN_WORDS[item.origin]
        : item.status === 'unlabeled'
          ? 'no label and no suggestion yet'
          : item.status === 'accepted'
            ? 'a suggestion accepted as a label'
            : null,
  };
}

export interface PreviewOptions {
  /** The image file's URL (GET /api/images/:id/file). */
  readonly fileUrl: (imageId: number) => string;
  /** The arrow keys: the host shows the next (+1) or previous (-1) image, or nothing at an end. */
  readonly onStep?: (delta: 1 | -1) => void;
  /** The preview closed (Space, Escape, a click outside the image). */
  readonly onClose?: () => void;
}

export class Preview {
  readonly element: HTMLElement;
  readonly #options: PreviewOptions;
  readonly #image: HTMLImageElement;
  readonly #caption: HTMLElement;
  #item: ImageItem | null = null;
  #position: string | undefined;

  constructor(options: PreviewOptions) {
    this.#options = options;
    this.#image = h('img', { alt: '', 'data-testid': 'preview-image', draggable: 'false' });
    this.#caption = h('figcaption', {});
    this.element = h(
      'div',
      { class: 'preview', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Preview', 'data-testid': 'preview' },
      h('figure', {}, this.#image, this.#caption),
    );
    this.element.hidden = true;
    // A click anywhere but on the words closes it, as a click outside Quick Look does.
    this.element.addEventListener('click', (event) => {
      if (!(event.target as Element).closest('figcaption')) this.close();
    });
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  /** The image shown, or null when closed. */
  get item(): ImageItem | null {
    return this.isOpen ? this.#item : null;
  }

  /** Where the image shown is among its host's, as `show` was given it ("12 of 37"). */
  get position(): string | undefined {
    return this.#position;
  }

  /** Shows an image (opening the preview, or moving it to another); `position` is e.g. "12 of 37". */
  show(item: ImageItem, position?: string): void {
    this.#item = item;
    this.#position = position;
    this.element.dataset.imageId = String(item.id);
    this.element.dataset.status = item.status;
    if (this.#image.dataset.imageId !== String(item.id)) {
      this.#image.dataset.imageId = String(item.id);
      this.#image.src = this.#options.fileUrl(item.id);
      this.#image.alt = item.path;
    }
    this.#caption.replaceChildren(...this.#captionOf(item, position));
    this.element.hidden = false;
  }

  close(): void {
    if (!this.isOpen) return;
    this.element.hidden = true;
    this.#options.onClose?.();
  }

  /** Keys while it is open: Space and Escape close, the arrows step. Returns whether the key was the preview's. */
  onKey(event: KeyboardEvent): boolean {
    if (!this.isOpen || event.ctrlKey || event.metaKey || event.altKey) return false;
    if (event.key === ' ' || event.key === 'Escape') this.close();
    else if (event.key === 'ArrowRight' || event.key === 'ArrowDown') this.#options.onStep?.(1);
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') this.#options.onStep?.(-1);
    else return false;
    event.preventDefault();
    return true;
  }

  #captionOf(item: ImageItem, position: string | undefined): Node[] {
    const facts = previewFacts(item);
    return [
      h(
        'div',
        { class: 'preview-facts' },
        h(
          'span',
          { class: `preview-status tag status-${item.status}`, 'data-testid': 'preview-status' },
          facts.heading,
        ),
        facts.label === null
          ? null
          : h('strong', { class: 'preview-label', 'data-testid': 'preview-label' }, facts.label),
        facts.confidence === null
          ? null
          : h('span', { class: `conf ${item.status}`, 'data-testid': 'preview-confidence' }, facts.confidence),
        facts.runnerUp === null
          ? null
          : h(
              'span',
              { class: 'preview-runner-up', 'data-testid': 'preview-runner-up' },
              'runner-up ',
              h('strong', {}, facts.runnerUp),
              ' ',
              h('span', { class: 'conf', 'data-testid': 'preview-runner-up-confidence' }, facts.runnerUpConfidence),
            ),
        facts.note === null ? null : h('span', { class: 'preview-note' }, facts.note),
      ),
      h(
        'div',
        { class: 'preview-meta' },
        h('span', { class: 'preview-path', 'data-testid': 'preview-path' }, item.path),
        position ? h('span', { 'data-testid': 'preview-position' }, position) : null,
        h(
          'span',
          { class: 'preview-keys' },
          h('kbd', {}, 'Space'),
          ' or ',
          h('kbd', {}, 'Esc'),
          ' closes · ',
          h('kbd', {}, '←'),
          ' ',
          h('kbd', {}, '→'),
          ' previous, next',
        ),
      ),
    ];
  }
}
