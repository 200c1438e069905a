// Class colours (app/class-colors.ts) against core's charts, here because tests are collected from packages/*/src.
import { barChart, lineChart } from '@autolabel/core/charts';
import { describe, expect, it } from 'vitest';
import { classColor, ClassColors, UNLABELED } from '../app/class-colors.js';

const CLASSES = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox', 'gnu', 'hen', 'ibis', 'jay'];

/** The colour a line chart with one series per class draws each class's line in, read from its SVG. */
function chartColors(names: readonly string[]): Map<string, string> {
  const svg = lineChart({
    title: 'per class',
    xLabel: 'x',
    yLabel: 'y',
    width: 400,
    height: 300,
    series: names.map((name, i) => ({ name, points: [{ x: 0, y: i }] })),
  });
  const colors = new Map<string, string>();
  for (const match of svg.matchAll(/data-series="([^"]+)"[^>]*>.*?fill="(#[0-9a-f]{6})"/gi)) {
    colors.set(match[1]!, match[2]!.toLowerCase());
  }
  return colors;
}

describe('class colours', () => {
  it('are the charts’ colours: every class, 4 and 5 included, looks the same on the map as in a line chart', () => {
    const map = new ClassColors(() => CLASSES);
    const chart = chartColors(CLASSES);
    expect(chart.size).toBe(CLASSES.length);
    for (const name of CLASSES) expect(map.colorOf(name).toLowerCase(), name).toBe(chart.get(name));
    // Classes 4 and 5 (dog, eel), the two the map once had the other way round.
    expect(map.colorOf('dog').toLowerCase()).toBe(chart.get('dog'));
    expect(map.colorOf('eel').toLowerCase()).toBe(chart.get('eel'));
    expect(map.colorOf('dog')).not.toBe(map.colorOf('eel'));
  });

  it('tell classes apart: the first eight classes all get different colours, none of them the no-label grey', () => {
    const colors = CLASSES.slice(0, 8).map((_, i) => classColor(i).toLowerCase());
    expect(new Set(colors).size).toBe(8);
    expect(colors).not.toContain(UNLABELED);
  });

  it('follow the server’s class order, and a class keeps its colour when classes are added', () => {
    let known = ['cat', 'dog'];
    const map = new ClassColors(() => known);
    // A label met before the stats list it still gets a colour: after the known classes.
    expect(map.colorOf('dog')).toBe(classColor(1));
    expect(map.colorOf('yak')).toBe(classColor(2));
    known = ['ant', 'cat', 'dog', 'yak'];
    expect(map.colorOf('ant')).toBe(classColor(3));
    expect(map.colorOf('cat')).toBe(classColor(0));
    expect(map.colorOf('yak')).toBe(classColor(2));
    expect(map.nameAt(3)).toBe('ant');
  });

  it('are the colours of a stacked bar chart with a segment per class', () => {
    const svg = barChart({
      title: 'images',
      yLabel: 'n',
      width: 400,
      height: 300,
      bars: [{ label: 'all', value: 6, stack: CLASSES.slice(0, 6).map((name) => ({ name, value: 1 })) }],
    });
    for (const [i, name] of CLASSES.slice(0, 6).entries()) {
      expect(svg.toLowerCase()).toContain(`${name}: 1`);
      const rect = new RegExp(`fill="(#[0-9a-f]{6})"[^>]*>\\s*<title>all · ${name}: 1`, 'i').exec(svg);
      expect(rect?.[1]?.toLowerCase(), name).toBe(classColor(i).toLowerCase());
    }
  });
});
