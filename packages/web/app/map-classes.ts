/**
 * @module What each point of the embedding map is coloured by: its class (its label, else its
 * suggestion) and its status, one small integer each per point, as GET /api/map/classes sends them
 * (base64 of little-endian Uint16 and Uint8 arrays) and as single rows patch them. Pure; unit-tested
 * in src/map-classes.test.ts.
 */
import type { ImageStatus, MapClassesState } from '@autolabel/core';
import { IMAGE_STATUSES } from '@autolabel/core/domain';

const UNLABELED_CODE = IMAGE_STATUSES.indexOf('unlabeled');

/** The bytes of a base64 string. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export class PointClasses {
  /** Class names; point i's class is `names[classOf[i] - 1]`, none where 0. */
  readonly names: string[];
  readonly classOf: Uint16Array;
  /** Point i's status as its position in IMAGE_STATUSES. */
  readonly status: Uint8Array;
  /** Whether the points' classes are known (an answer arrived), not merely none yet. */
  readonly known: boolean;
  readonly #index: Map<string, number>;

  private constructor(names: string[], classOf: Uint16Array, status: Uint8Array, known: boolean) {
    this.names = names;
    this.classOf = classOf;
    this.status = status;
    this.known = known;
    this.#index = new Map(names.map((name, c) => [name, c + 1]));
  }

  /** `count` points whose classes have not arrived: no class, status unlabeled. */
  static unknown(count: number): PointClasses {
    return new PointClasses([], new Uint16Array(count), new Uint8Array(count).fill(UNLABELED_CODE), false);
  }

  /** The server's answer for `count` points; throws when its arrays do not hold `count` points. */
  static decode(answer: Extract<MapClassesState, { state: 'ready' }>, count: number): PointClasses {
    const classBytes = fromBase64(answer.classOf);
    const status = fromBase64(answer.status);
    if (classBytes.length !== 2 * count || status.length !== count) {
      throw new Error(`the map's classes hold ${status.length} points, the map ${count}`);
    }
    // fromBase64's buffer starts at 0, so it is aligned for 16-bit reads (little-endian, as every browser's platform).
    return new PointClasses([...answer.classes], new Uint16Array(classBytes.buffer), status, true);
  }

  get count(): number {
    return this.status.length;
  }

  /** Point i's class name, or null. */
  label(i: number): string | null {
    const c = this.classOf[i]!;
    return c === 0 ? null : this.names[c - 1]!;
  }

  statusOf(i: number): ImageStatus {
    return IMAGE_STATUSES[this.status[i]!] ?? 'unlabeled';
  }

  /** Point i as an image row now says: its class (label, else suggestion; null for none) and status. */
  set(i: number, label: string | null, status: ImageStatus): void {
    let c = 0;
    if (label !== null) {
      c = this.#index.get(label) ?? 0;
      if (c === 0) this.#index.set(label, (c = this.names.push(label)));
    }
    this.classOf[i] = c;
    this.status[i] = IMAGE_STATUSES.indexOf(status);
  }
}
