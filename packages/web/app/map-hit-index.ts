/**
 * @module The embedding map's points and its spatial index: which point is nearest the cursor, and which
 * lie in a rectangle (a lasso's or a box's bounds), found through a uniform grid of buckets over the
 * layout's data square [-1, 1]² instead of a scan of every point, so hover and selection stay instant
 * with tens of thousands of them. Pure; the map view asks it in data units.
 */

/** Buckets per side over [-1, 1]². */
const BUCKETS = 128;

const bucketOf = (v: number): number => Math.min(BUCKETS - 1, Math.max(0, Math.floor(((v + 1) / 2) * BUCKETS)));

export class HitIndex {
  readonly count: number;
  /** Image id of each point. */
  readonly ids: Int32Array;
  readonly x: Float32Array;
  readonly y: Float32Array;
  /** Image id -> point. */
  readonly #byId = new Map<number, number>();
  /** Points of bucket b are #cellPoints[#cellStart[b] .. #cellStart[b + 1]). */
  readonly #cellStart: Int32Array;
  readonly #cellPoints: Int32Array;

  /** `xy` holds each image's layout position, x then y, in the order of `ids`. */
  constructor(ids: readonly number[], xy: readonly number[]) {
    const count = ids.length;
    this.count = count;
    this.ids = Int32Array.from(ids);
    this.x = new Float32Array(count);
    this.y = new Float32Array(count);
    // Points sorted by bucket with one counting sort: counts, prefix sums, then a pass placing each.
    const cells = new Int32Array(count);
    const cellStart = new Int32Array(BUCKETS * BUCKETS + 1);
    for (let i = 0; i < count; i++) {
      this.x[i] = xy[2 * i]!;
      this.y[i] = xy[2 * i + 1]!;
      this.#byId.set(ids[i]!, i);
      const cell = bucketOf(this.y[i]!) * BUCKETS + bucketOf(this.x[i]!);
      cells[i] = cell;
      cellStart[cell + 1]!++;
    }
    for (let b = 0; b < BUCKETS * BUCKETS; b++) cellStart[b + 1]! += cellStart[b]!;
    const fill = cellStart.slice(0, BUCKETS * BUCKETS);
    const cellPoints = new Int32Array(count);
    for (let i = 0; i < count; i++) cellPoints[fill[cells[i]!]!++] = i;
    this.#cellStart = cellStart;
    this.#cellPoints = cellPoints;
  }

  /** The point of an image, or undefined when it is not on the map. */
  pointOf(id: number): number | undefined {
    return this.#byId.get(id);
  }

  /** The nearest point within `radius` (data units) of (x, y), or -1: only the buckets the radius touches are read. */
  nearest(x: number, y: number, radius: number): number {
    const r = radius;
    if (x < -1 - r || x > 1 + r || y < -1 - r || y > 1 + r) return -1;
    const x0 = bucketOf(x - r);
    const x1 = bucketOf(x + r);
    const y0 = bucketOf(y - r);
    const y1 = bucketOf(y + r);
    let best = -1;
    let bestD = r * r;
    for (let by = y0; by <= y1; by++) {
      for (let bx = x0; bx <= x1; bx++) {
        const b = by * BUCKETS + bx;
        for (let k = this.#cellStart[b]!; k < this.#cellStart[b + 1]!; k++) {
          const i = this.#cellPoints[k]!;
          const ex = this.x[i]! - x;
          const ey = this.y[i]! - y;
          const d = ex * ex + ey * ey;
          if (d <= bestD) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best;
  }

  /**
   * The points with x0 <= x <= x1 and y0 <= y <= y1 (data units, corners in any order), in point
   * order: only the buckets the rectangle touches are read.
   */
  inRect(ax: number, ay: number, bx: number, by: number): Int32Array {
    const x0 = Math.min(ax, bx);
    const x1 = Math.max(ax, bx);
    const y0 = Math.min(ay, by);
    const y1 = Math.max(ay, by);
    const found: number[] = [];
    for (let row = bucketOf(y0); row <= bucketOf(y1); row++) {
      for (let col = bucketOf(x0); col <= bucketOf(x1); col++) {
        const b = row * BUCKETS + col;
        for (let k = this.#cellStart[b]!; k < this.#cellStart[b + 1]!; k++) {
          const i = this.#cellPoints[k]!;
          const x = this.x[i]!;
          const y = this.y[i]!;
          if (x >= x0 && x <= x1 && y >= y0 && y <= y1) found.push(i);
        }
      }
    }
    return Int32Array.from(found).sort();
  }
}
