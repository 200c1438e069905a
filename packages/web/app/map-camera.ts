/**
 * @module The embedding map's camera: where the layout's data square [-1, 1]² lies on the canvas
 * (fitted to the shorter side at zoom 1, y pointing up), and how wheel zoom around the cursor and drag
 * panning move it. Pure: the map view feeds it the canvas size and the pointer, and draws with it.
 */

export const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 400;
/** At zoom 1 the data square fills this share of the canvas's shorter side, leaving a margin for dots. */
const FIT = 0.92;
/** Wheel pixels to zoom: exp(-deltaY · this) per event. */
const WHEEL_RATE = 0.0015;
/** Pixels per wheel "line" for mice that scroll by lines (WheelEvent.DOM_DELTA_LINE). */
const LINE_PX = 16;

export class MapCamera {
  #zoom = 1;
  #panX = 0;
  #panY = 0;
  #width = 0;
  #height = 0;

  get zoom(): number {
    return this.#zoom;
  }

  /** The offset of the data square's centre from the canvas's centre, in CSS pixels. */
  get pan(): { readonly x: number; readonly y: number } {
    return { x: this.#panX, y: this.#panY };
  }

  /** The canvas size in CSS pixels; the data square stays centred on it (plus the pan) as it changes. */
  resize(width: number, height: number): void {
    this.#width = width;
    this.#height = height;
  }

  /** CSS pixels per data unit. */
  scale(): number {
    return (Math.min(this.#width, this.#height) / 2) * FIT * this.#zoom;
  }

  transform(): ScreenTransform {
    return { originX: this.#width / 2 + this.#panX, originY: this.#height / 2 + this.#panY, scale: this.scale() };
  }

  /** Data -> CSS pixels in the canvas; y points up in data space. */
  toScreen(x: number, y: number): [number, number] {
    const { originX, originY, scale } = this.transform();
    return [originX + x * scale, originY - y * scale];
  }

  /** CSS pixels in the canvas -> data. */
  toData(sx: number, sy: number): [number, number] {
    const { originX, originY, scale } = this.transform();
    return [(sx - originX) / scale, -(sy - originY) / scale];
  }

  /** Moves the data square so its centre is `x`, `y` pixels from the canvas's centre (a drag sets it). */
  panTo(x: number, y: number): void {
    this.#panX = x;
    this.#panY = y;
  }

  /**
   * Zooms by one wheel event at canvas position (sx, sy), within [MIN_ZOOM, MAX_ZOOM], keeping the data
   * point under the cursor where it is. `deltaMode` is WheelEvent's: 1 counts lines, anything else pixels.
   */
  wheel(sx: number, sy: number, deltaY: number, deltaMode: number): void {
    const [dx, dy] = this.toData(sx, sy);
    const delta = deltaMode === 1 ? deltaY * LINE_PX : deltaY;
    this.#zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.#zoom * Math.exp(-delta * WHEEL_RATE)));
    const s = this.scale();
    this.#panX = sx - this.#width / 2 - dx * s;
    this.#panY = sy - this.#height / 2 + dy * s;
  }
}

/** Where data point (0, 0) sits on the canvas, in CSS pixels, and how many pixels a data unit spans. */
export interface ScreenTransform {
  readonly originX: number;
  readonly originY: number;
  readonly scale: number;
}
