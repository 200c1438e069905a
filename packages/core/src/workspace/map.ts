/**
 * @module The workspace's embedding map: the learner's layout (learn/projection.ts) with its sample
 * stratified by each image's class, its label where it has one, else its suggestion, so every class,
 * small ones included, is laid out by UMAP itself; images with neither go by k-means cell. And what
 * the map view colours each point by (`mapClasses`), read in one pass over labels and suggestions.
 */
import { IMAGE_STATUSES, type ImageId, imageStatus, type ImageStatus } from '../domain/index.js';
import { AutolabelError } from '../errors.js';
import type { Learner } from '../learn/learner.js';
import { layoutLearnerMap, type MapLayout, type ProjectionOptions } from '../learn/projection.js';
import type { WorkspaceContext } from './context.js';

/** Each map point's class and status, in the map's order of points: what the map view colours by. */
export interface MapClasses {
  /** The classes points have, in the order first met; `classOf` counts from 1 into this list. */
  readonly classes: readonly string[];
  /** Point i's class: its label, else its suggestion; `classes[classOf[i] - 1]`, none where 0. */
  readonly classOf: Uint16Array;
  /** Point i's status, as its position in IMAGE_STATUSES (`unlabeled` where it has no class). */
  readonly status: Uint8Array;
}

/** Most classes `classOf` can tell apart (0 is none). */
const MAX_MAP_CLASSES = 0xffff;
const STATUS_CODE = new Map<ImageStatus, number>(IMAGE_STATUSES.map((status, i) => [status, i]));

/**
 * Every image's class (its label, else its suggestion) and status, at `rowOf(image)` of `size` rows
 * (images without a row are skipped): labels and suggestions read in one pass.
 */
async function readClasses(
  ws: WorkspaceContext,
  size: number,
  rowOf: (id: ImageId) => number | undefined,
): Promise<{ classes: string[]; classOf: Int32Array; status: Uint8Array }> {
  const classOf = new Int32Array(size).fill(-1);
  const status = new Uint8Array(size).fill(STATUS_CODE.get('unlabeled')!);
  const index = new Map<string, number>();
  const classes: string[] = [];
  const classIndex = (name: string): number => {
    let c = index.get(name);
    if (c === undefined) index.set(name, (c = classes.push(name) - 1));
    return c;
  };
  await ws.store.visitImageClasses((imageId, label, source, suggestionStatus) => {
    const row = rowOf(imageId);
    if (row === undefined) return;
    classOf[row] = classIndex(label);
    status[row] = STATUS_CODE.get(imageStatus({ source, suggestionStatus }))!;
  });
  return { classes, classOf, status };
}

export async function mapLayout(
  ws: WorkspaceContext,
  learner: Learner,
  options: ProjectionOptions & { readonly sample?: number } = {},
): Promise<MapLayout> {
  const { classOf: strata } = await readClasses(ws, learner.size, (id) => learner.rowOf(id));
  const { math, features, graph } = learner;
  return layoutLearnerMap({ math, features, graph, strata }, options);
}

/** The class and status of each of the map's points `ids` (point i is image ids[i]). */
export async function mapClasses(ws: WorkspaceContext, ids: ArrayLike<number>): Promise<MapClasses> {
  const { classes, classOf, status } = await readClasses(ws, ids.length, pointLookup(ids));
  if (classes.length > MAX_MAP_CLASSES) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `the map colours at most ${MAX_MAP_CLASSES.toLocaleString('en-US')} classes; this workspace has ${classes.length.toLocaleString('en-US')}`,
    );
  }
  const wire = new Uint16Array(ids.length);
  for (let i = 0; i < ids.length; i++) wire[i] = classOf[i]! + 1;
  return { classes, classOf: wire, status };
}

/** Point of each image id: a flat table where ids are dense (as the store's are), else a hash map. */
function pointLookup(ids: ArrayLike<number>): (id: ImageId) => number | undefined {
  let max = 0;
  for (let i = 0; i < ids.length; i++) max = Math.max(max, ids[i]!);
  if (max > 4 * ids.length + 1024) {
    const points = new Map<number, number>();
    for (let i = 0; i < ids.length; i++) points.set(ids[i]!, i);
    return (id) => points.get(id);
  }
  const table = new Int32Array(max + 1).fill(-1);
  for (let i = 0; i < ids.length; i++) table[ids[i]!] = i;
  return (id) => {
    const point = id <= max ? table[id]! : -1;
    return point < 0 ? undefined : point;
  };
}
