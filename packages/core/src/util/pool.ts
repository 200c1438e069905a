/** @module Bounded concurrency for I/O-heavy loops. */

/** Runs `work` over `items` with at most `limit` in flight, yielding results in input order. */
export async function* mapOrdered<T, R>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  work: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator: AsyncIterator<T> | Iterator<T> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  const queue: Promise<R>[] = [];
  let exhausted = false;
  const fill = async (): Promise<void> => {
    while (!exhausted && queue.length < limit) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const promise = work(next.value);
      // Rejections surface when the promise is awaited in order; avoid unhandled warnings meanwhile.
      promise.catch(() => undefined);
      queue.push(promise);
    }
  };
  await fill();
  while (queue.length > 0) {
    const result = await queue.shift()!;
    await fill();
    yield result;
  }
}
