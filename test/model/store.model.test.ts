// The store's model-based test (see store-model.ts): generated interleavings of transport,
// handshake, push, poll, auth, page and API events, with the invariants checked after every
// step. MODEL_RUNS and MODEL_SEED change the count and the seed (see run-model.ts).
import { it } from 'vitest';
import { runModel } from './run-model';
import { storeModel } from './store-model';

it(
  `store model: ${process.env.MODEL_RUNS ?? 1000} generated runs keep safety, liveness and quiet`,
  () => runModel('store', storeModel),
  3_600_000,
);
