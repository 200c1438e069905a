/**
 * @module The workspace's embedding map: the learner's layout (learn/projection.ts) with its sample
 * stratified by each image's class, its label where it has one, else its suggestion, so every class,
 * small ones included, is laid out by UMAP itself; images with neither go by k-means cell.
 */
import type { Learner } from '../learn/learner.js';
import { layoutLearnerMap, type MapLayout, type ProjectionOptions } from '../learn/projection.js';
import type { WorkspaceContext } from './context.js';

export async function mapLayout(
  ws: WorkspaceContext,
  learner: Learner,
  options: ProjectionOptions & { readonly sample?: number } = {},
): Promise<MapLayout> {
  const strata = new Int32Array(learner.size).fill(-1);
  const classes = new Map<string, number>();
  const classOf = (name: string): number => {
    let c = classes.get(name);
    if (c === undefined) classes.set(name, (c = classes.size));
    return c;
  };
  for (const suggestion of await ws.store.listSuggestions()) {
    const row = learner.rowOf(suggestion.imageId);
    if (row !== undefined) strata[row] = classOf(suggestion.label);
  }
  // A label says more than a suggestion of the same image.
  for (const label of await ws.store.listLabels()) {
    const row = learner.rowOf(label.imageId);
    if (row !== undefined) strata[row] = classOf(label.label);
  }
  const { math, features, graph } = learner;
  return layoutLearnerMap({ math, features, graph, strata }, options);
}
