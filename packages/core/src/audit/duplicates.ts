/**
 * @module Near-duplicate groups: edges from identical content, from perceptual hashes a few bits apart
 * (found through exact matches of 16-bit blocks: by pigeonhole any two hashes within 3 bits share a
 * block, multi-index hashing, Norouzi et al. 2012), and from k-NN graph neighbours whose cosine is high and
 * whose hashes roughly agree;
 * connected components (union-find) are the groups. No pairwise loop over all images.
 */
import { hammingAt } from './phash.js';
import { UnionFind } from './union-find.js';

/** Hashes within this many bits are near-exact copies (resized, re-encoded). */
export const HASH_NEAR_BITS = 4;
/**
 * Graph neighbours are copies when their hashes agree and their features are similar enough, the
 * more similar the farther apart the hashes: a re-encode or a resize of a small image moves its
 * features a lot (cosine 0.6 on CIFAR-10, measured) but its hash little (up to 10 bits); a 5% crop
 * moves the hash more (up to 14) and the features less. Two different pictures differ in about 32
 * bits; CIFAR-10's nearest neighbours 10 bits apart at cosine 0.6-0.75 were as often different
 * pictures as copies (inspected by eye, bench:audit). The hash must agree: a model can see two
 * different pictures of one thing as nearly the same vector.
 */
export const GRAPH_LINKS: readonly { readonly maxBits: number; readonly minCosine: number }[] = [
  { maxBits: 8, minCosine: 0.6 },
  { maxBits: 10, minCosine: 0.75 },
  { maxBits: 20, minCosine: 0.85 },
];
const MIN_LINK_COSINE = 0.6;
/** Graph neighbours this similar are copies on their own where one of them has no hash (it could not be read). */
export const COSINE_DUPLICATE = 0.97;
/** A hash block shared by more images than this is uninformative (blank images); left to the graph. */
const MAX_BUCKET = 64;

export interface DuplicateInput {
  readonly rows: number;
  /** Each row's content hash as a small integer (equal content, equal key). */
  readonly contentKeys: Int32Array;
  /** Perceptual hashes as two 32-bit words per row (`hashWords`); rows without one have `hasHash` 0. */
  readonly hashWords: Uint32Array;
  readonly hasHash: Uint8Array;
  /** The k-NN graph over the rows: neighbour rows and cosine similarities, row-major [rows, k]. */
  readonly neighbours: Int32Array;
  readonly similarities: Float32Array;
  readonly k: number;
}

export interface DuplicateGroup {
  /** Rows of the group, ascending. */
  readonly rows: readonly number[];
  /** The weakest link that joined the group: the larger of cosine and 1 - hash bits / 64 (1 for identical content). */
  readonly similarity: number;
  /** Every link was identical content or an identical perceptual hash. */
  readonly exact: boolean;
}

export function duplicateGroups(input: DuplicateInput): DuplicateGroup[] {
  const { rows, contentKeys, hashWords, hasHash, neighbours, similarities, k } = input;
  const sets = new UnionFind(rows);
  const links: { a: number; b: number; similarity: number; exact: boolean }[] = [];
  const link = (a: number, b: number, similarity: number, exact: boolean): void => {
    if (a === b) return;
    links.push({ a, b, similarity, exact });
    sets.union(a, b);
  };
  // Identical content.
  const firstOfContent = new Map<number, number>();
  for (let r = 0; r < rows; r++) {
    const first = firstOfContent.get(contentKeys[r]!);
    if (first === undefined) firstOfContent.set(contentKeys[r]!, r);
    else link(first, r, 1, true);
  }
  // Near-exact hashes: candidates share one of four 16-bit blocks.
  for (let block = 0; block < 4; block++) {
    const buckets = new Map<number, number[]>();
    for (let r = 0; r < rows; r++) {
      if (!hasHash[r]) continue;
      const word = hashWords[2 * r + (block >> 1)]!;
      const key = (block & 1 ? word & 0xffff : word >>> 16) >>> 0;
      let bucket = buckets.get(key);
      if (!bucket) buckets.set(key, (bucket = []));
      bucket.push(r);
    }
    for (const bucket of buckets.values()) {
      if (bucket.length < 2 || bucket.length > MAX_BUCKET) continue;
      for (let i = 0; i < bucket.length; i++)
        for (let j = i + 1; j < bucket.length; j++) {
          const a = bucket[i]!;
          const b = bucket[j]!;
          if (contentKeys[a] === contentKeys[b]) continue;
          const bits = hammingAt(hashWords, a, b);
          if (bits <= HASH_NEAR_BITS) link(a, b, 1 - bits / 64, bits === 0);
        }
    }
  }
  // The graph: very similar neighbours, or similar ones whose hashes agree.
  for (let a = 0; a < rows; a++) {
    for (let j = 0; j < k; j++) {
      const b = neighbours[a * k + j]!;
      const s = similarities[a * k + j]!;
      if (s < MIN_LINK_COSINE) break; // nearest first
      if (b === a || contentKeys[a] === contentKeys[b]) continue;
      const hashed = hasHash[a] === 1 && hasHash[b] === 1;
      const bits = hashed ? hammingAt(hashWords, a, b) : 64;
      const linked = hashed ? GRAPH_LINKS.some((l) => bits <= l.maxBits && s >= l.minCosine) : s >= COSINE_DUPLICATE;
      if (linked) link(a, b, Math.min(1, Math.max(s, hashed ? 1 - bits / 64 : 0)), false);
    }
  }
  const groupOf = new Map<number, { similarity: number; exact: boolean }>();
  for (const l of links) {
    const root = sets.find(l.a);
    const g = groupOf.get(root) ?? { similarity: 1, exact: true };
    groupOf.set(root, { similarity: Math.min(g.similarity, l.similarity), exact: g.exact && l.exact });
  }
  return sets.groups().map((members) => {
    const g = groupOf.get(sets.find(members[0]!))!;
    return { rows: members, similarity: g.similarity, exact: g.exact };
  });
}
