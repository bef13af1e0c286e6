// The client's model-based test (see client-model.ts): generated interleavings of the
// connection lifecycle with calls and server events, invariants checked after every step.
// MODEL_RUNS and MODEL_SEED change the count and the seed (see run-model.ts).
import { it } from 'vitest';
import { clientModel, clientTransportModel } from './client-model';
import { runModel } from './run-model';

it(
  `client model: ${process.env.MODEL_RUNS ?? 1000} generated runs settle every call and leave nothing behind`,
  () => runModel('client', clientModel),
  3_600_000,
);

it(
  `client transport model: ${process.env.MODEL_RUNS ?? 1000} generated runs probe, move only when quiet, and leave nothing behind`,
  () => runModel('client-transport', clientTransportModel),
  3_600_000,
);
