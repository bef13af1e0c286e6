// The shared store's model-based test (see tabs-model.ts): tabs opening, closing and crashing,
// the server moving on, restarting and pausing, calls in flight as leaders go, and messages
// between tabs lost, duplicated or reordered, with the invariants checked after every step.
// Each run simulates several tabs for tens of seconds, so `npm test` runs fewer than the
// other models (TABS_RUNS); MODEL_RUNS and MODEL_SEED change the count and the seed.
import { it } from 'vitest';
import { runModel } from './run-model';
import { tabsModel } from './tabs-model';

const TABS_RUNS = 300;

it(
  `tabs model: ${process.env.MODEL_RUNS ?? TABS_RUNS} generated runs keep safety, liveness and quiet`,
  () => runModel('tabs', tabsModel, TABS_RUNS),
  3_600_000,
);
