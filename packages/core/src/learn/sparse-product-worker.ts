/**
 * @module The helper thread of sparse-product.ts: waits on the shared counter of passes asked for,
 * takes the newest binding (matrix, vectors, rows) from its port, runs the pass asked for (a product,
 * or one of the solver's vector passes) over its rows, counts it done.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  ASKED,
  DONE,
  PASS,
  PASSES,
  type ProductBinding,
  type ProductHelperData,
  READY,
  runPass,
} from './sparse-product.js';

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
  const pass = PASSES[Atomics.load(control, PASS)] ?? 'product';
  if (binding) runPass(pass, binding, binding.begin, binding.end, binding.sums);
  Atomics.add(control, DONE, 1);
  Atomics.notify(control, DONE);
}
