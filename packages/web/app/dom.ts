/** @module Small DOM helpers: element creation without innerHTML for untrusted text, and number formats. */

type Child = Node | string | null | undefined | false;
type Attributes = Readonly<Record<string, string | number | boolean | undefined | null>>;

/** An element with attributes (false/null/undefined left out, true as an empty attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(
    ...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false),
  );
  return element;
}

/** A confidence in [0, 1] as a whole percentage; a dash when there is none. */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${Math.round(value * 100)}%`;
}

/**
 * Whether a key belongs to the focused control rather than to the view's shortcuts: every key in a
 * text field, and Enter or Space on a button or link (which activate it).
 */
export function isForControl(event: KeyboardEvent): boolean {
  if (isTyping(event)) return true;
  const target = event.target;
  return (
    (event.key === 'Enter' || event.key === ' ') &&
    target instanceof HTMLElement &&
    (target.tagName === 'BUTTON' || target.tagName === 'A')
  );
}

/** Whether a key event is aimed at a text field, where keys are typing rather than commands. */
function isTyping(event: KeyboardEvent): boolean {
  const target = event.target;
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable ||
      target.tagName === 'INPUT' ||
      target.tagName === 'TEXTAREA' ||
      target.tagName === 'SELECT')
  );
}

/** Runs `action` at most once per animation frame however often it is asked for. */
export function frameThrottle(action: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      action();
    });
  };
}
