/** @module Tests of the charts and the page, read back through a small XML parser as a viewer would. */
import { describe, expect, it } from 'vitest';
import type { ReliabilityBin } from '../learn/calibration.js';
import { reportHtml } from './html.js';
import { barChart, histogram, lineChart, niceTicks, PALETTE, reliabilityDiagram, wrapText } from './svg.js';
import { formatNumber } from './text.js';
import { timeUnitFor } from './time.js';

interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  /** The element's own text, entities decoded, without its children's. */
  text: string;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * A strict parser for the XML subset the report writes: throws on unbalanced or crossed tags, a second
 * root, a raw "<" or unknown entity in text or attribute values, and repeated attributes.
 */
function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (why: string): never => {
    throw new Error(`${why} at offset ${i}: ${JSON.stringify(source.slice(i, i + 60))}`);
  };
  const decode = (raw: string): string => {
    let out = '';
    for (let j = 0; j < raw.length;) {
      const c = raw[j]!;
      if (c === '<') fail('raw "<"');
      if (c !== '&') {
        out += c;
        j++;
        continue;
      }
      const end = raw.indexOf(';', j);
      const entity = end < 0 ? fail('unterminated entity') : raw.slice(j + 1, end);
      if (ENTITIES[entity] !== undefined) out += ENTITIES[entity];
      else if (entity.startsWith('#x')) out += String.fromCodePoint(parseInt(entity.slice(2), 16));
      else if (entity.startsWith('#') && entity.length > 1) out += String.fromCodePoint(Number(entity.slice(1)));
      else fail(`unknown entity &${entity};`);
      j = end + 1;
    }
    return out;
  };
  const skipPast = (end: string): void => {
    const at = source.indexOf(end, i);
    if (at < 0) fail(`no closing ${end}`);
    i = at + end.length;
  };
  const isNameChar = (c: string | undefined): boolean =>
    c !== undefined &&
    ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || ':-_.'.includes(c));
  const readName = (): string => {
    const start = i;
    while (isNameChar(source[i])) i++;
    return i > start ? source.slice(start, i) : fail('expected a name');
  };
  const skipSpace = (): void => {
    while (source[i] === ' ' || source[i] === '\n' || source[i] === '\t' || source[i] === '\r') i++;
  };

  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const text = source.slice(i, lt < 0 ? source.length : lt);
    const open = stack[stack.length - 1];
    if (open) open.text += decode(text);
    else if (text.trim() !== '') fail('text outside the root element');
    if (lt < 0) break;
    i = lt;
    if (source.startsWith('<!--', i)) skipPast('-->');
    else if (source.startsWith('<?', i)) skipPast('?>');
    else if (source.startsWith('<!DOCTYPE', i)) skipPast('>');
    else if (source.startsWith('</', i)) {
      i += 2;
      const name = readName();
      const closed = stack.pop();
      if (closed?.name !== name) fail(`</${name}> closes <${closed?.name ?? 'nothing'}>`);
      skipSpace();
      if (source[i++] !== '>') fail('expected ">"');
    } else {
      i++;
      const element: XmlElement = { name: readName(), attributes: new Map(), children: [], text: '' };
      const attributes = element.attributes as Map<string, string>;
      for (;;) {
        skipSpace();
        if (source.startsWith('/>', i) || source[i] === '>') break;
        const name = readName();
        if (attributes.has(name)) fail(`repeated attribute ${name}`);
        if (source[i++] !== '=') fail('expected "="');
        const quote = source[i++];
        if (quote !== '"' && quote !== "'") fail('unquoted attribute value');
        const end = source.indexOf(quote!, i);
        if (end < 0) fail('unterminated attribute value');
        attributes.set(name, decode(source.slice(i, end)));
        i = end + 1;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) fail('a second root element');
      else root = element;
      if (source[i] === '>') stack.push(element);
      i += source[i] === '>' ? 1 : 2;
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]!.name}> is never closed`);
  return root ?? fail('no root element');
}

function findAll(element: XmlElement, test: (e: XmlElement) => boolean): XmlElement[] {
  const found = test(element) ? [element] : [];
  return found.concat(element.children.flatMap((child) => findAll(child, test)));
}

const byClass = (root: XmlElement, name: string): XmlElement[] =>
  findAll(root, (e) => (e.attributes.get('class') ?? '').split(' ').includes(name));

const attr = (element: XmlElement, name: string): number => Number(element.attributes.get(name));

/** Tick values as a reader sees them, with the thousands separators taken out. */
const tickValues = (root: XmlElement, axis: 'x' | 'y'): number[] =>
  byClass(root, `${axis}-tick`).map((tick) => Number(tick.text.replaceAll(',', '')));

/** What a text element reads, its lines (tspans) joined by spaces. */
const textOf = (element: XmlElement): string =>
  [element.text, ...element.children.map(textOf)].filter((part) => part !== '').join(' ');

/** WCAG 2 contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string): number => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const NASTY = '<cat & "dog">';

describe('the XML check the tests rely on', () => {
  it('rejects what a browser would refuse', () => {
    expect(() => parseXml('<svg><g></svg></g>')).toThrow(/closes/);
    expect(() => parseXml('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => parseXml('<svg><text x="a<b">c</text></svg>')).toThrow(/raw/);
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/entity/);
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/repeated/);
    expect(() => parseXml('<svg/><svg/>')).toThrow(/second root/);
    expect(parseXml('<svg><text x="&lt;">a &amp; b</text></svg>').children[0]!.text).toBe('a & b');
  });
});

describe('lineChart', () => {
  const chart = lineChart({
    title: 'Accuracy vs labels',
    xLabel: 'Labels',
    yLabel: 'Accuracy',
    series: [
      { name: 'kNN', points: [0, 1, 2].map((k) => ({ x: 10 + 40 * k, y: 3 + 47 * k })) },
      {
        name: 'logistic',
        points: [
          { x: 15, y: 20 },
          { x: 40, y: Number.NaN },
          { x: 60, y: 25 },
          { x: 85, y: 30 },
        ],
        dashed: true,
      },
    ],
  });
  const svg = parseXml(chart);
  const series = findAll(svg, (e) => e.name === 'g' && e.attributes.has('data-series'));
  const seriesNamed = (name: string): XmlElement => series.find((g) => g.attributes.get('data-series') === name)!;

  it('is a standalone SVG with a size, a viewBox and a title', () => {
    expect(svg.name).toBe('svg');
    expect(svg.attributes.get('xmlns')).toBe('http://www.w3.org/2000/svg');
    expect(attr(svg, 'width')).toBeGreaterThan(0);
    expect(attr(svg, 'height')).toBeGreaterThan(0);
    expect(svg.attributes.get('viewBox')).toBe(`0 0 ${attr(svg, 'width')} ${attr(svg, 'height')}`);
    expect(svg.children[0]).toMatchObject({ name: 'title', text: 'Accuracy vs labels' });
    const texts = findAll(svg, (e) => e.name === 'text').map((e) => e.text);
    expect(texts).toEqual(expect.arrayContaining(['Accuracy vs labels', 'Labels', 'Accuracy']));
    expect(chart).not.toMatch(/<script|@import|url\(/);
  });

  it('draws one marker per point', () => {
    expect(byClass(seriesNamed('kNN'), 'marker')).toHaveLength(3);
  });

  it('skips NaN points and breaks the line there', () => {
    const logistic = seriesNamed('logistic');
    expect(byClass(logistic, 'marker')).toHaveLength(3);
    const path = findAll(logistic, (e) => e.name === 'path')[0]!.attributes.get('d')!;
    expect(path.split('M')).toHaveLength(3); // two runs: before and after the gap
    expect(path).not.toContain('NaN');
    expect(chart).not.toContain('NaN');
  });

  it('has round ticks that cover the data, and draws every point inside them', () => {
    for (const [axis, min, max] of [
      ['x', 10, 90],
      ['y', 3, 97],
    ] as const) {
      const ticks = tickValues(svg, axis);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks[0]).toBeLessThanOrEqual(min);
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
      const step = ticks[1]! - ticks[0]!;
      expect([1, 2, 5]).toContain(step / 10 ** Math.floor(Math.log10(step)));
    }
    // Pixel extent of the y ticks (SVG y grows downwards) contains every marker.
    const tickYs = byClass(svg, 'y-tick').map((t) => attr(t, 'y'));
    for (const marker of byClass(svg, 'marker')) {
      expect(attr(marker, 'cy')).toBeLessThanOrEqual(Math.max(...tickYs) + 0.01);
      expect(attr(marker, 'cy')).toBeGreaterThanOrEqual(Math.min(...tickYs) - 0.01);
    }
  });

  it('shows a legend for two series, none for one, and dashes a dashed series', () => {
    expect(byClass(svg, 'legend')[0]!.children.map((row) => row.children[1]!.text)).toEqual(['kNN', 'logistic']);
    expect(findAll(seriesNamed('logistic'), (e) => e.name === 'path')[0]!.attributes.has('stroke-dasharray')).toBe(
      true,
    );
    expect(findAll(seriesNamed('kNN'), (e) => e.name === 'path')[0]!.attributes.has('stroke-dasharray')).toBe(false);
    const single = parseXml(
      lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'only', points: [{ x: 0, y: 0 }] }] }),
    );
    expect(byClass(single, 'legend')).toHaveLength(0);
  });

  it('keeps a fixed domain and clips the line to it', () => {
    const fixed = parseXml(
      lineChart({
        title: 't',
        xLabel: 'x',
        yLabel: 'y',
        xDomain: [0, 1],
        yDomain: [0, 1],
        series: [
          {
            name: 's',
            points: [
              { x: 0.5, y: 0.5 },
              { x: 0.9, y: 3 },
            ],
          },
        ],
      }),
    );
    expect(tickValues(fixed, 'y')).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(byClass(fixed, 'y-tick').map((t) => t.text)).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    const clip = findAll(fixed, (e) => e.name === 'svg' && e !== fixed);
    expect(clip).toHaveLength(1);
    expect(clip[0]!.attributes.get('overflow')).toBe('hidden');
    expect(byClass(clip[0]!, 'marker')).toHaveLength(2);
  });
});

describe('barChart', () => {
  it('escapes category names in text and tooltips', () => {
    const chart = barChart({ title: `Images per ${NASTY}`, yLabel: 'Images', bars: [{ label: NASTY, value: 3 }] });
    const svg = parseXml(chart);
    expect(chart).toContain('&lt;cat &amp; &quot;dog&quot;&gt;');
    expect(chart).not.toContain(NASTY);
    expect(byClass(svg, 'x-tick')[0]!.text).toBe(NASTY);
    expect(svg.children[0]!.text).toBe(`Images per ${NASTY}`);
  });

  it('stacks segments by status with one colour per status and a legend', () => {
    const statuses = (labeled: number, auto: number, suggested: number) => [
      { name: 'labeled', value: labeled },
      { name: 'auto', value: auto },
      { name: 'suggested', value: suggested },
    ];
    const svg = parseXml(
      barChart({
        title: 'Images per class',
        xLabel: 'Class',
        yLabel: 'Images',
        bars: [
          { label: 'cat', value: 60, stack: statuses(10, 20, 30) },
          { label: 'dog', value: 7, stack: statuses(5, 0, 2) },
        ],
      }),
    );
    const legend = byClass(svg, 'legend')[0]!.children;
    expect(legend.map((row) => row.children[1]!.text)).toEqual(['labeled', 'auto', 'suggested']);
    const fillOf = new Map(legend.map((row) => [row.children[1]!.text, row.children[0]!.attributes.get('fill')]));
    const stacks = byClass(svg, 'bar-stack');
    expect(stacks).toHaveLength(2);
    const cat = byClass(stacks[0]!, 'bar');
    expect(cat.map((bar) => bar.attributes.get('fill'))).toEqual(
      ['labeled', 'auto', 'suggested'].map((s) => fillOf.get(s)),
    );
    // Segment heights are proportional to their values: 10 : 20 : 30.
    const heights = cat.map((bar) => attr(bar, 'height'));
    expect(heights[1]! / heights[0]!).toBeCloseTo(2, 1);
    expect(heights[2]! / heights[0]!).toBeCloseTo(3, 1);
    expect(Math.max(...tickValues(svg, 'y'))).toBeGreaterThanOrEqual(60);
    expect(tickValues(svg, 'y')[0]).toBe(0);
  });

  it('turns long category names and leaves short ones level', () => {
    const long = Array.from({ length: 12 }, (_, i) => ({ label: `a rather long class name ${i}`, value: i + 1 }));
    const turned = byClass(parseXml(barChart({ title: 't', yLabel: 'n', bars: long })), 'x-tick');
    expect(turned.length).toBeGreaterThan(0);
    for (const tick of turned) expect(tick.attributes.get('transform')).toMatch(/^rotate\(-45 /);
    const short = byClass(
      parseXml(barChart({ title: 't', yLabel: 'n', bars: [{ label: 'cat', value: 1 }] })),
      'x-tick',
    );
    expect(short[0]!.attributes.has('transform')).toBe(false);
  });
});

describe('legends', () => {
  const names = ['precision (held-out labels)', 'coverage (unlabelled images)', 'target precision'];
  const chart = (width: number, series = names) =>
    parseXml(
      lineChart({
        title: 'Precision and coverage vs threshold',
        xLabel: 'confidence threshold',
        yLabel: 'share',
        width,
        height: 300,
        series: series.map((name, i) => ({ name, points: [{ x: i, y: i }] })),
      }),
    );

  it('show every name in full, inside the chart, even a chart a phone shrinks to 340 px', () => {
    for (const width of [640, 340]) {
      const svg = chart(width);
      const rows = byClass(svg, 'legend')[0]!.children;
      expect(rows.map((row) => textOf(row.children[1]!))).toEqual(names);
      expect(
        findAll(svg, (e) => e.name === 'text')
          .map(textOf)
          .join(' '),
      ).not.toContain('…');
      for (const row of rows) {
        const text = row.children[1]!;
        const longest = Math.max(...[text, ...text.children].map((t) => t.text.length));
        // 0.6 em per character is the chart's own (generous) estimate of a glyph.
        expect(attr(text, 'x') + longest * 12 * 0.6, textOf(text)).toBeLessThanOrEqual(attr(svg, 'width'));
      }
    }
  });

  it('wrap a name wider than the chart into lines rather than cutting it', () => {
    const long = 'precision of the suggestions on held-out labelled images chosen by people';
    const svg = chart(300, [long, 'coverage']);
    const text = byClass(svg, 'legend')[0]!.children[0]!.children[1]!;
    expect(text.children.length).toBeGreaterThan(1);
    expect(textOf(text)).toBe(long);
  });

  it('wrapText breaks at spaces within the width and keeps every word', () => {
    const lines = wrapText('one two three four five six', 60, 10);
    expect(lines.every((line) => line.length <= 10)).toBe(true);
    expect(lines.join(' ')).toBe('one two three four five six');
    expect(wrapText('supercalifragilistic', 60, 10)).toEqual(['supercalif', 'ragilistic']);
  });
});

describe('category names on the x axis', () => {
  // Stacked by status, with its legend, as the dashboard draws them.
  const classes = (count: number, name = (i: number) => `class ${String(i).padStart(2, '0')}`) =>
    Array.from({ length: count }, (_, i) => ({
      label: name(i),
      value: i + 2,
      stack: [
        { name: 'labeled', value: 2 },
        { name: 'suggested', value: i },
      ],
    }));
  const ticks = (bars: ReturnType<typeof classes>, width: number) =>
    parseXml(barChart({ title: 'Images per class', yLabel: 'images', width, height: 300, bars }));

  it('are all there, none skipped, for a dozen classes in a dashboard-sized chart', () => {
    for (const width of [380, 320]) {
      const bars = classes(12, (i) => ['cat', 'dog', 'a rather long name', 'eel'][i % 4]! + ` ${i}`);
      const svg = ticks(bars, width);
      expect(byClass(svg, 'x-tick').map((t) => t.text)).toEqual(bars.map((b) => b.label));
      // Turned names hang left of their bands but stay inside the chart.
      const first = byClass(svg, 'x-tick')[0]!;
      expect(attr(first, 'x') - first.text.length * 12 * 0.6 * Math.SQRT1_2).toBeGreaterThanOrEqual(-1);
    }
  });

  it('stand upright, then smaller, before any is left out; when some are, the axis says so', () => {
    const upright = byClass(ticks(classes(20), 380), 'x-tick');
    expect(upright).toHaveLength(20);
    expect(upright[0]!.attributes.get('transform')).toMatch(/^rotate\(-90 /);
    const many = ticks(classes(60), 380);
    const shown = byClass(many, 'x-tick');
    expect(shown.length).toBeLessThan(60);
    expect(shown.length).toBeGreaterThanOrEqual(20);
    expect(attr(shown[0]!, 'font-size')).toBeLessThan(12);
    const note = byClass(many, 'axis-title')
      .map((t) => t.text)
      .join(' ');
    expect(note).toMatch(/every (2nd|3rd|\d+th) of 60 names shown/);
    expect(byClass(many, 'x-ticks')[0]!.children[0]).toMatchObject({ name: 'title' });
    // Every bar still names its class in its tooltip.
    expect(byClass(many, 'bar-stack').map((stack) => stack.children[0]!.text)).toEqual(
      classes(60).map((bar) => `${bar.label}: ${bar.value}`),
    );
  });
});

describe('theme', () => {
  const svg = lineChart({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      { name: 'a', points: [{ x: 0, y: 0 }] },
      { name: 'b', points: [{ x: 1, y: 1 }] },
    ],
  });

  it('draws text, axes and grid in the page’s text colour on no background of its own', () => {
    const root = parseXml(svg);
    for (const text of findAll(root, (e) => e.name === 'text'))
      expect(text.attributes.get('fill')).toBe('currentColor');
    for (const line of findAll(root, (e) => e.name === 'line' && !e.attributes.has('stroke-width'))) {
      expect(line.attributes.get('stroke')).toBe('currentColor');
    }
    expect(findAll(root, (e) => e.name === 'rect' && e.attributes.get('fill') === '#ffffff')).toHaveLength(0);
  });

  it('has a palette that reads on the dark theme’s background (#161b22), and no black', () => {
    for (const color of PALETTE) expect(contrast(color, '#161b22'), color).toBeGreaterThanOrEqual(3);
    expect(PALETTE.map((c) => c.toLowerCase())).not.toContain('#000000');
    // The grey that stands in for black still reads on white.
    expect(contrast(PALETTE[6], '#ffffff')).toBeGreaterThanOrEqual(3);
  });
});

describe('timeUnitFor', () => {
  it('counts a 40-minute span in minutes, and picks seconds, hours and days for their spans', () => {
    expect(timeUnitFor(40 * 60_000)).toEqual({ name: 'minutes', ms: 60_000 });
    expect(timeUnitFor(90_000).name).toBe('seconds');
    expect(timeUnitFor(0).name).toBe('seconds');
    expect(timeUnitFor(5 * 3_600_000).name).toBe('hours');
    expect(timeUnitFor(3 * 86_400_000).name).toBe('days');
  });
});

describe('histogram', () => {
  it('draws one bar per non-empty bin over an axis that covers the bins', () => {
    const bins = [
      { from: 0.5, to: 0.6, count: 4 },
      { from: 0.6, to: 0.7, count: 0 },
      { from: 0.7, to: 0.8, count: 1234 },
    ];
    const svg = parseXml(
      histogram({ title: 'Confidence', xLabel: 'Confidence', yLabel: 'Images', bins, name: 'auto' }),
    );
    expect(byClass(svg, 'bar')).toHaveLength(2);
    const x = tickValues(svg, 'x');
    expect(x[0]).toBeLessThanOrEqual(0.5);
    expect(x[x.length - 1]).toBeGreaterThanOrEqual(0.8);
    expect(Math.max(...tickValues(svg, 'y'))).toBeGreaterThanOrEqual(1234);
    expect(byClass(svg, 'y-tick').some((t) => t.text.includes(','))).toBe(true); // 1,000 not 1000
    expect(byClass(svg, 'legend')).toHaveLength(0);
  });
});

describe('reliabilityDiagram', () => {
  const bin = (b: number, count: number, accuracy: number): ReliabilityBin => ({
    from: b / 10,
    to: (b + 1) / 10,
    count,
    confidence: count ? b / 10 + 0.05 : Number.NaN,
    accuracy,
  });

  it('draws accuracy bars for non-empty bins and the perfect-calibration diagonal', () => {
    const bins = [bin(5, 10, 0.5), bin(6, 0, Number.NaN), bin(7, 20, 0.7), bin(9, 50, 0.98)];
    const chart = reliabilityDiagram({ title: 'Calibration', bins });
    const svg = parseXml(chart);
    const bars = byClass(svg, 'bar');
    expect(bars).toHaveLength(3);
    expect(chart).not.toContain('NaN');
    // Height tracks accuracy: 0.98 is almost twice 0.5.
    expect(attr(bars[2]!, 'height') / attr(bars[0]!, 'height')).toBeCloseTo(1.96, 1);
    const diagonal = byClass(svg, 'diagonal')[0]!;
    expect(attr(diagonal, 'x2')).toBeGreaterThan(attr(diagonal, 'x1'));
    expect(attr(diagonal, 'y2')).toBeLessThan(attr(diagonal, 'y1'));
    expect(tickValues(svg, 'x')).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(byClass(svg, 'legend')[0]!.children.map((row) => row.children[1]!.text)).toEqual([
      'Accuracy',
      'Perfect calibration',
    ]);
  });
});

describe('niceTicks', () => {
  it('picks round steps without floating-point noise', () => {
    expect(niceTicks(0, 0.93).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.3, 0.7).values).toEqual([0.3, 0.4, 0.5, 0.6, 0.7]);
    expect(niceTicks(-3, 97).values).toEqual([-20, 0, 20, 40, 60, 80, 100]);
    expect(niceTicks(5, 5).domain[0]).toBeLessThan(5);
  });
});

describe('reportHtml', () => {
  const sections = [
    { title: 'Overview', text: 'First paragraph.\n\nSecond, with a <tag> & more.' },
    { title: `Classes ${NASTY}`, svg: barChart({ title: 'Images', yLabel: 'n', bars: [{ label: NASTY, value: 2 }] }) },
    {
      title: 'Per class',
      table: {
        columns: ['class', 'images', 'precision'],
        rows: [
          [NASTY, 1234567, 0.912345],
          ['dog', 12, null],
        ],
      },
    },
  ];
  const html = reportHtml({
    title: `Autolabel report ${NASTY}`,
    generatedAt: new Date(Date.UTC(2024, 4, 1, 9, 30)),
    summary: [
      { label: 'Images', value: 1500 },
      { label: 'Model', value: 'clip-vit-b32' },
    ],
    sections,
  });
  const page = parseXml(html);

  it('is one well-formed page with every section title, escaped', () => {
    expect(page.name).toBe('html');
    const headings = findAll(page, (e) => e.name === 'h2').map((h) => h.text);
    expect(headings).toEqual(sections.map((s) => s.title));
    expect(findAll(page, (e) => e.name === 'h1')[0]!.text).toBe(`Autolabel report ${NASTY}`);
    expect(html).not.toContain(NASTY);
    expect(findAll(page, (e) => e.name === 'p').map((p) => p.text)).toContain('Second, with a <tag> & more.');
    expect(findAll(page, (e) => e.name === 'time')[0]!.text).toBe('2024-05-01 09:30 UTC');
  });

  it('inlines the charts and fetches nothing from outside', () => {
    expect(findAll(page, (e) => e.name === 'svg' && e.attributes.has('xmlns'))).toHaveLength(1);
    const withoutNamespace = html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '');
    expect(withoutNamespace).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/);
  });

  it('formats numbers in tables and right-aligns numeric columns', () => {
    const cells = findAll(page, (e) => e.name === 'td');
    expect(cells.map((td) => td.text)).toEqual([NASTY, '1,234,567', '0.9123', 'dog', '12', '']);
    expect(findAll(cells[5]!, (e) => e.attributes.get('class') === 'missing')[0]!.text).toBe('—');
    const headers = findAll(page, (e) => e.name === 'th');
    expect(headers.map((th) => th.attributes.get('class'))).toEqual([undefined, 'num', 'num']);
    expect(findAll(page, (e) => e.name === 'dd').map((dd) => dd.text)).toEqual(['1,500', 'clip-vit-b32']);
  });
});

describe('reportHtml galleries', () => {
  const pixel = 'data:image/jpeg;base64,/9j/4AAQSkZJRg==';
  const html = reportHtml({
    title: 'Examples',
    generatedAt: 'now',
    summary: [],
    sections: [
      {
        title: 'Examples per class',
        gallery: [
          {
            title: NASTY,
            items: [
              { src: pixel, alt: `a/${NASTY}.jpg`, caption: 'labelled' },
              { src: 'https://example.com/x.jpg', alt: 'remote.jpg', caption: 'suggested 90%' },
              { src: null, alt: 'gone.jpg', caption: 'suggested 80%' },
            ],
          },
        ],
      },
    ],
  });
  const page = parseXml(html);

  it('shows inline images with their captions, and never an image from outside the page', () => {
    expect(findAll(page, (e) => e.name === 'h3')[0]!.text).toBe(NASTY);
    const images = findAll(page, (e) => e.name === 'img');
    expect(images.map((img) => img.attributes.get('src'))).toEqual([pixel]);
    expect(images[0]!.attributes.get('alt')).toBe(`a/${NASTY}.jpg`);
    expect(findAll(page, (e) => e.name === 'figcaption').map((c) => c.text)).toEqual([
      'labelled',
      'suggested 90%',
      'suggested 80%',
    ]);
    expect(byClass(page, 'no-image').map((e) => e.attributes.get('title'))).toEqual(['remote.jpg', 'gone.jpg']);
    expect(html).not.toContain('example.com');
    expect(html).toContain('img-src data:');
  });
});

describe('formatNumber', () => {
  it('reads well for counts, rates and missing values', () => {
    expect([1234567, 0.5, 12.3456, 1234.5678, 0.00001234, Number.NaN].map(formatNumber)).toEqual([
      '1,234,567',
      '0.5',
      '12.35',
      '1,235',
      '1.23e-5',
      '—',
    ]);
  });
});
