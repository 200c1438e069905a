/**
 * @module Selecting on the embedding map: which points lie inside a lasso (a polygon) or a box, asked of
 * the hit index so only the buckets under the shape are read, and the selection itself (image ids, kept
 * across recolouring). Pure; the map view draws the shapes in screen pixels and hands them over in data units.
 */
import type { HitIndex } from './map-hit-index.js';

/** A polygon as x0, y0, x1, y1, … (closed: the last vertex joins the first). */
export type Polygon = ArrayLike<number>;

/** Whether (x, y) is inside `polygon` by the even-odd rule: ray casting, as in W. R. Franklin's PNPOLY. */
export function insidePolygon(x: number, y: number, polygon: Polygon): boolean {
  const n = polygon.length >> 1;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = polygon[2 * i]!;
    const yi = polygon[2 * i + 1]!;
    const xj = polygon[2 * j]!;
    const yj = polygon[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The smallest rectangle holding `polygon`: [minX, minY, maxX, maxY]. */
export function polygonBounds(polygon: Polygon): [number, number, number, number] {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let k = 0; k + 1 < polygon.length; k += 2) {
    minX = Math.min(minX, polygon[k]!);
    maxX = Math.max(maxX, polygon[k]!);
    minY = Math.min(minY, polygon[k + 1]!);
    maxY = Math.max(maxY, polygon[k + 1]!);
  }
  return [minX, minY, maxX, maxY];
}

/** The points inside a lasso, in point order; none for a polygon of fewer than three vertices. */
export function pointsInPolygon(points: HitIndex, polygon: Polygon): Int32Array {
  if (polygon.length < 6) return new Int32Array(0);
  const [x0, y0, x1, y1] = polygonBounds(polygon);
  return points.inRect(x0, y0, x1, y1).filter((i) => insidePolygon(points.x[i]!, points.y[i]!, polygon));
}

/** The points inside the box with corners (ax, ay) and (bx, by), edges included, in point order. */
export function pointsInBox(points: HitIndex, ax: number, ay: number, bx: number, by: number): Int32Array {
  return points.inRect(ax, ay, bx, by);
}

/**
 * A path drawn with the pointer, in screen pixels: vertices closer than `minStep` to the last one are
 * dropped, so a slow drag does not make a polygon of thousands of vertices.
 */
export function extendPath(path: number[], x: number, y: number, minStep = 3): boolean {
  const n = path.length;
  if (n >= 2 && Math.hypot(x - path[n - 2]!, y - path[n - 1]!) < minStep) return false;
  path.push(x, y);
  return true;
}

/** The images selected on the map, by id, so a selection survives the points being recoloured or reloaded. */
export class MapSelection {
  #ids = new Set<number>();

  get size(): number {
    return this.#ids.size;
  }

  has(id: number): boolean {
    return this.#ids.has(id);
  }

  ids(): number[] {
    return [...this.#ids];
  }

  /** Selects the images of `points` (indices into `index`): instead of the selection, or added to it. */
  choose(index: HitIndex, points: ArrayLike<number>, add: boolean): void {
    if (!add) this.#ids = new Set();
    for (let k = 0; k < points.length; k++) this.#ids.add(index.ids[points[k]!]!);
  }

  /** Adds an image, or takes it out when it is in. */
  toggle(id: number): void {
    if (!this.#ids.delete(id)) this.#ids.add(id);
  }

  clear(): void {
    this.#ids = new Set();
  }

  /** One byte per point of `index`: 1 where its image is selected. */
  mask(index: HitIndex): Uint8Array {
    const mask = new Uint8Array(index.count);
    for (const id of this.#ids) {
      const i = index.pointOf(id);
      if (i !== undefined) mask[i] = 1;
    }
    return mask;
  }
}
