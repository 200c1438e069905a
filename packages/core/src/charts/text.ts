/** @module Escaping and number formatting shared by the SVG charts and the HTML report. */

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for XML and HTML, in element content and in quoted attribute values alike. Control
 * characters become U+FFFD because XML 1.0 forbids them even as character references, and one stray
 * byte in a class name would otherwise make the whole SVG unreadable.
 */
export function escapeXml(text: string): string {
  let escaped = '';
  for (const c of text) {
    const forbidden = c < ' ' && c !== '\t' && c !== '\n' && c !== '\r';
    escaped += ESCAPES[c] ?? (forbidden ? '\uFFFD' : c);
  }
  return escaped;
}

/**
 * A number as a reader wants it in a table or tooltip: integers grouped (`12,345`), fractions to about
 * four significant digits without rounding away integer digits (`0.9123`, `12.35`, `1,235`), tiny
 * values in exponent form, and a dash for a missing value. Locale fixed to en-US so reports are
 * reproducible wherever they are generated.
 */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3) return value.toExponential(2);
  const fractionDigits = Math.min(4, Math.max(0, 3 - Math.floor(Math.log10(magnitude))));
  return value.toLocaleString('en-US', { maximumFractionDigits: fractionDigits });
}
