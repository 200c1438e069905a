// The embedding map's camera (app/map-camera.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { MAX_ZOOM, MapCamera, MIN_ZOOM } from '../app/map-camera.js';

const camera = (width = 800, height = 600): MapCamera => {
  const c = new MapCamera();
  c.resize(width, height);
  return c;
};

describe('MapCamera', () => {
  it('fits the whole layout on the canvas at first, centred, with y pointing up', () => {
    const c = camera(800, 600);
    const [left, top] = c.toScreen(-1, 1);
    const [right, bottom] = c.toScreen(1, -1);
    expect(left).toBeGreaterThan(0);
    expect(top).toBeGreaterThan(0);
    expect(right).toBeLessThan(800);
    expect(bottom).toBeLessThan(600);
    expect((left + right) / 2).toBeCloseTo(400);
    expect((top + bottom) / 2).toBeCloseTo(300);
    // Fitted to the shorter side, with only a small margin left.
    expect(bottom - top).toBeGreaterThan(0.9 * 600);
    expect(c.toScreen(0, 0.5)[1]).toBeLessThan(c.toScreen(0, -0.5)[1]);
  });

  it('finds the data point under a screen position (the inverse of drawing it)', () => {
    const c = camera(640, 480);
    c.wheel(100, 70, -300, 0);
    c.panTo(c.pan.x + 37, c.pan.y - 12);
    for (const [x, y] of [
      [0.3, -0.7],
      [-1, 1],
      [0.01, 0.02],
    ] as const) {
      const [sx, sy] = c.toScreen(x, y);
      const [dx, dy] = c.toData(sx, sy);
      expect(dx).toBeCloseTo(x, 9);
      expect(dy).toBeCloseTo(y, 9);
    }
  });

  it('zooms around the cursor: the point under it stays put while the rest spreads out', () => {
    const c = camera();
    const [ux, uy] = c.toData(200, 150);
    const before = c.toScreen(0.5, 0.5)[0] - c.toScreen(-0.5, 0.5)[0];
    c.wheel(200, 150, -200, 0);
    const [sx, sy] = c.toScreen(ux, uy);
    expect(sx).toBeCloseTo(200, 6);
    expect(sy).toBeCloseTo(150, 6);
    expect(c.toScreen(0.5, 0.5)[0] - c.toScreen(-0.5, 0.5)[0]).toBeGreaterThan(before);
    c.wheel(200, 150, 400, 0);
    expect(c.toScreen(0.5, 0.5)[0] - c.toScreen(-0.5, 0.5)[0]).toBeLessThan(before);
  });

  it('scrolls by lines as 16 pixels each', () => {
    const byLines = camera();
    byLines.wheel(400, 300, -3, 1);
    const byPixels = camera();
    byPixels.wheel(400, 300, -48, 0);
    expect(byLines.zoom).toBeCloseTo(byPixels.zoom, 12);
    expect(byLines.zoom).toBeGreaterThan(1);
  });

  it('stops zooming out at half the fitted size and zooming in at its limit', () => {
    const c = camera();
    for (let i = 0; i < 100; i++) c.wheel(400, 300, 500, 0);
    expect(c.zoom).toBe(MIN_ZOOM);
    const span = c.toScreen(1, 0)[0] - c.toScreen(-1, 0)[0];
    expect(span).toBeCloseTo(0.5 * (camera().toScreen(1, 0)[0] - camera().toScreen(-1, 0)[0]), 6);
    for (let i = 0; i < 200; i++) c.wheel(400, 300, -500, 0);
    expect(c.zoom).toBe(MAX_ZOOM);
  });

  it('moves the map with a drag by as many pixels as the pointer moved', () => {
    const c = camera();
    const [x0, y0] = c.toScreen(0.2, 0.4);
    const start = c.pan;
    c.panTo(start.x + 30, start.y - 45);
    const [x1, y1] = c.toScreen(0.2, 0.4);
    expect(x1 - x0).toBeCloseTo(30);
    expect(y1 - y0).toBeCloseTo(-45);
  });

  it('keeps the map centred as the canvas is resized', () => {
    const c = camera(800, 600);
    c.resize(400, 1000);
    const [sx, sy] = c.toScreen(0, 0);
    expect(sx).toBeCloseTo(200);
    expect(sy).toBeCloseTo(500);
    expect(c.toScreen(1, 0)[0]).toBeLessThan(400);
  });
});
