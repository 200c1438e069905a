/** @module A self-contained HTML report page: summary figures, then sections of text, charts and tables. */
import { escapeXml, formatNumber } from './text.js';

export type Cell = string | number | null;

export interface ReportTable {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** One image of a gallery: an inline image (data: URI), or null when it could not be made. */
export interface GalleryItem {
  /** A `data:image/...;base64,` URI; anything else is shown as a missing image, so the page fetches nothing. */
  readonly src: string | null;
  readonly alt: string;
  readonly caption: string;
}

/** A titled row of images, e.g. the examples of one class. */
export interface GalleryGroup {
  readonly title: string;
  readonly items: readonly GalleryItem[];
}

export interface ReportSection {
  readonly title: string;
  /** Plain text; a blank line starts a new paragraph. */
  readonly text?: string;
  /** Trusted SVG markup, as the chart functions of this module return it; inserted as is. */
  readonly svg?: string;
  readonly table?: ReportTable;
  readonly gallery?: readonly GalleryGroup[];
}

export interface ReportOptions {
  readonly title: string;
  /** A Date is shown in UTC, so the page reads the same wherever it was generated; a string is shown as is. */
  readonly generatedAt: Date | string;
  readonly summary: readonly { readonly label: string; readonly value: string | number }[];
  readonly sections: readonly ReportSection[];
}

/*
 * No "<" or "&" in here: the page stays well-formed XML, which is how the tests check its escaping.
 * Charts draw in currentColor on no background, so they follow the page into its dark theme; the
 * white edges that part bars and markers take the page's background.
 */
const STYLE = `
:root { color-scheme: light dark; --ink: #222; --muted: #666; --line: #ddd; --faint: #eee; --paper: #fff; --link: #0b5c99; }
@media (prefers-color-scheme: dark) {
  :root { --ink: #e6edf3; --muted: #9198a1; --line: #3d444d; --faint: #262c36; --paper: #161b22; --link: #8fd3ff; }
}
body { margin: 0 auto; max-width: 960px; padding: 24px; color: var(--ink); background: var(--paper); }
body { font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; }
h1 { margin: 0; font-size: 26px; }
h2 { margin: 40px 0 8px; font-size: 20px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 16px 0 6px; font-size: 16px; }
a { color: var(--link); }
.generated { margin: 4px 0 20px; color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: 12px; margin: 0; }
.summary div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 120px; max-width: 100%; }
.summary dt { color: var(--muted); font-size: 13px; }
.summary dd { margin: 0; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
nav ol { margin: 16px 0 0; padding-left: 20px; }
figure { margin: 12px 0; }
figure svg { max-width: 100%; height: auto; }
svg .bar, svg .marker { stroke: var(--paper); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { padding: 4px 12px; border-bottom: 1px solid var(--faint); text-align: left; }
th { border-bottom: 2px solid var(--line); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.missing { color: var(--muted); }
.gallery ul { display: flex; flex-wrap: wrap; gap: 10px; margin: 0; padding: 0; list-style: none; }
.gallery figure { margin: 0; width: 96px; }
.gallery img, .gallery .no-image { display: block; width: 96px; height: 96px; object-fit: contain; }
.gallery .no-image { border: 1px dashed var(--line); }
.gallery figcaption { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
@media print { h2 { break-after: avoid; } figure, tr { break-inside: avoid; } }
`;

const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/**
 * The whole report as one HTML page with inline CSS and inline SVG. A Content-Security-Policy forbids
 * every outside resource, so the file opens the same offline, from an e-mail or from an archive.
 */
export function reportHtml(options: ReportOptions): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    '<meta name="viewport" content="width=device-width, initial-scale=1" />',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />`,
    `<title>${escapeXml(options.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${escapeXml(options.title)}</h1>${generatedHtml(options.generatedAt)}</header>`,
    summaryHtml(options.summary),
    contentsHtml(options.sections),
    ...options.sections.map(sectionHtml),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function summaryHtml(summary: ReportOptions['summary']): string {
  if (summary.length === 0) return '';
  const items = summary.map((item) => `<div><dt>${escapeXml(item.label)}</dt><dd>${cellText(item.value)}</dd></div>`);
  return `<dl class="summary">${items.join('')}</dl>`;
}

/** A table of contents, which only pays for itself once there is something to jump between. */
function contentsHtml(sections: readonly ReportSection[]): string {
  if (sections.length < 2) return '';
  const items = sections.map((section, i) => `<li><a href="#${sectionId(i)}">${escapeXml(section.title)}</a></li>`);
  return `<nav><ol>${items.join('')}</ol></nav>`;
}

function sectionId(index: number): string {
  return `section-${index + 1}`;
}

function generatedHtml(at: Date | string): string {
  if (typeof at === 'string') return `<p class="generated">Generated ${escapeXml(at)}</p>`;
  if (Number.isNaN(at.getTime())) return '';
  const iso = at.toISOString();
  const shown = `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  return `<p class="generated">Generated <time datetime="${iso}">${shown}</time></p>`;
}

function sectionHtml(section: ReportSection, index: number): string {
  const paragraphs = (section.text ?? '')
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph !== '')
    .map((paragraph) => `<p>${escapeXml(paragraph)}</p>`);
  const figure = section.svg ? `<figure>${section.svg}</figure>` : '';
  const table = section.table ? tableHtml(section.table) : '';
  const gallery = section.gallery ? section.gallery.map(galleryHtml).join('') : '';
  const heading = `<h2>${escapeXml(section.title)}</h2>`;
  return `<section id="${sectionId(index)}">${heading}${paragraphs.join('')}${figure}${gallery}${table}</section>`;
}

const INLINE_IMAGE = /^data:image\/(jpeg|png|webp|gif);base64,[A-Za-z0-9+/]+=*$/;

function galleryHtml(group: GalleryGroup): string {
  const items = group.items.map((item) => {
    const alt = escapeXml(item.alt);
    const image =
      item.src !== null && INLINE_IMAGE.test(item.src)
        ? `<img src="${item.src}" alt="${alt}" title="${alt}" width="96" height="96" />`
        : `<div class="no-image missing" title="${alt}">image not readable</div>`;
    return `<li><figure>${image}<figcaption>${escapeXml(item.caption)}</figcaption></figure></li>`;
  });
  const list = items.length > 0 ? `<ul>${items.join('')}</ul>` : '<p class="missing">no images</p>';
  return `<div class="gallery"><h3>${escapeXml(group.title)}</h3>${list}</div>`;
}

function tableHtml(table: ReportTable): string {
  // A column whose cells are all numbers (or missing) is right-aligned, header included, so digits line up.
  const numeric = table.columns.map((_, c) => table.rows.every((row) => typeof (row[c] ?? 0) === 'number'));
  const align = (c: number): string => (numeric[c] ? ' class="num"' : '');
  const head = table.columns.map((column, c) => `<th${align(c)}>${escapeXml(column)}</th>`).join('');
  const body = table.rows
    .map((row) => `<tr>${table.columns.map((_, c) => `<td${align(c)}>${cellText(row[c] ?? null)}</td>`).join('')}</tr>`)
    .join('');
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** Escaped cell text; a missing value shows as a dimmed dash rather than as an empty cell or "null". */
function cellText(value: Cell): string {
  if (value === null || (typeof value === 'number' && Number.isNaN(value))) return '<span class="missing">—</span>';
  return escapeXml(typeof value === 'number' ? formatNumber(value) : value);
}
