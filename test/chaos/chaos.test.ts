// The short chaos run inside `npm test`: the same run as `npm run chaos` (see
// chaos/core.mjs for the faults and the exact checks) against src/, with 20
// faults instead of 200, on a fixed seed so CI runs are reproducible, on the short timing
// profile (the default timing's settle periods would not fit in a unit test run).
// CHAOS_SEED=<n> replays another fault sequence; CHAOS_TEST_FAULTS=<n> changes the count.
//
// Emits are confirmed by the server's ack, so no event may be lost silently (L = 0, asserted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import { createAgentZeroModel } from '../../src/agent-zero';
import * as lib from '../../src/index';
import { printReport, runChaos, type ChaosReport } from '../../chaos/core.mjs';

const seed = Number(process.env.CHAOS_SEED ?? 20261123);
const faults = Number(process.env.CHAOS_TEST_FAULTS ?? 20);
let report: ChaosReport;
const lines: string[] = [];

beforeAll(async () => {
  report = await runChaos({
    lib,
    createModel: createAgentZeroModel,
    createReferenceServer,
    faults,
    seed,
    settleTimeoutMs: 12_000,
    log: (l) => lines.push(l),
  });
  printReport(report, (l) => lines.push(l));
  lines.push(report.line);
}, 150_000);
afterAll(() => console.info(`[chaos] seed ${seed}\n${lines.join('\n')}`));

describe(`chaos: ${faults} faults through the fault proxy (seed ${seed})`, () => {
  it('injects every fault and converges after each one (C = F)', () => {
    expect(report.faults).toBe(faults);
    expect(report.failures.filter((f) => f.includes('converge'))).toEqual([]);
    expect(report.converged).toBe(report.faults);
  });

  it('never applies older state (S = 0): server counters and lastSeq never go back', () => {
    expect(report.failures.filter((f) => f.includes('stale') || f.includes('lastSeq'))).toEqual([]);
    expect(report.stale).toBe(0);
  });

  it('has no unhandled rejection or uncaught exception (U = 0)', () => {
    expect(report.unhandledDetails).toEqual([]);
  });

  it('returns every timer, listener and socket to its baseline, and stays bounded during the run', () => {
    expect(report.resources.problems).toEqual([]);
  });

  it('loses no fire-and-forget emit (L = 0), rejects only with typed errors, duplicates nothing', () => {
    expect(report.events.emitted).toBeGreaterThan(0);
    expect(report.failures.filter((f) => f.includes('emits neither'))).toEqual([]);
    expect(report.untypedRejections).toBe(0);
    expect(report.duplicatedEvents).toBe(0);
    // Invariant (c): delivered exactly once, or reported as failed to the caller. An emit whose
    // ack died with the connection was delivered yet rejected (counted as ambiguous): it was
    // reported, so it is allowed; one that resolved but never arrived (lost) is not.
    expect(report.lostEvents).toBe(0);
  });
});
