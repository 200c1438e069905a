/** @module Disjoint sets (union by size, path halving; Tarjan 1975): duplicate edges into groups. */

export class UnionFind {
  readonly #parent: Int32Array;
  readonly #size: Int32Array;

  constructor(n: number) {
    this.#parent = Int32Array.from({ length: n }, (_, i) => i);
    this.#size = new Int32Array(n).fill(1);
  }

  find(a: number): number {
    const parent = this.#parent;
    while (parent[a]! !== a) {
      parent[a] = parent[parent[a]!]!;
      a = parent[a]!;
    }
    return a;
  }

  /** Joins the sets of a and b; returns the root of the joined set. */
  union(a: number, b: number): number {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return ra;
    if (this.#size[ra]! < this.#size[rb]!) [ra, rb] = [rb, ra];
    this.#parent[rb] = ra;
    this.#size[ra]! += this.#size[rb]!;
    return ra;
  }

  /** Every set of two or more members, each in ascending order, sets by their first member. */
  groups(): number[][] {
    const byRoot = new Map<number, number[]>();
    for (let i = 0; i < this.#parent.length; i++) {
      if (this.#size[this.find(i)]! < 2) continue;
      const root = this.find(i);
      let members = byRoot.get(root);
      if (!members) byRoot.set(root, (members = []));
      members.push(i);
    }
    return [...byRoot.values()];
  }
}
