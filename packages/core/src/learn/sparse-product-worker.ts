/**
 * @module The helper thread of sparse-product.ts: waits on the shared counter of products asked for,
 * takes the newest binding (matrix, vectors, rows) from its port, writes its rows, counts it done.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ASKED, DONE, type ProductBinding, type ProductHelperData, productRows, READY } from './sparse-product.js';

const { control, port } = workerData as ProductHelperData;

let binding: ProductBinding | undefined;
let seen = Atomics.load(control, ASKED);
Atomics.store(control, READY, 1);
for (;;) {
  Atomics.wait(control, ASKED, seen);
  const asked = Atomics.load(control, ASKED);
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) binding = m.message as ProductBinding;
  // Products are asked for one at a time (the caller waits for each), so asked is seen + 1.
  seen = asked;
  if (binding)
    productRows(binding.matrix, binding.alpha, binding.x, binding.out, binding.width, binding.begin, binding.end);
  Atomics.add(control, DONE, 1);
  Atomics.notify(control, DONE);
}
