// STATUS: failed against src/ when written; passes since commit 05ce55a ("Harden bad input: ...",
// made while this suite was being written). Kept as a regression test.
// REPRO: the liveness audit (src/store/store.ts, the 'audit' effect) calls
// hasChanged(before, snapshot) inside a .then() fulfilment handler with no rejection
// handler after it. When hasChanged throws, that is an unhandled rejection, and the
// machine never gets its 'audited' event: `s.audit` stays set, every later 'live' timer
// just re-arms (machine.ts: `if (s.pushes !== s.livePushes || s.audit)`), and the store
// never audits again, so a silent push channel goes unnoticed for good.
// hasChanged throws when
//  - the user's hasChanged throws (or is not a function: not validated),
//  - the default hasChanged's reduce() throws on the polled snapshot (a reducer that throws
//    is otherwise handled as REDUCE_ERROR), or
//  - the default hasChanged's deepEqual() overflows the stack: server data nested a few
//    thousand levels deep (valid JSON; JSON.parse takes it) in both the state and the
//    polled snapshot. That one needs nothing but data from the wire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeHarness } from '../helpers/store-harness';
import { trapUnhandled, deepText } from './arbitraries';

const trap = trapUnhandled();
beforeAll(() => trap.install());
afterAll(() => trap.uninstall());

type Opts = Parameters<typeof storeHarness>[0];

/** A HEALTHY store whose push channel then goes silent; the audits get `polled` (JSON text) from /poll. */
async function silentChannel(opts: Opts, pushed: object, polled: string) {
  trap.seen.length = 0;
  let polls = 0;
  const fetch = () => {
    polls++;
    return Promise.resolve(
      new Response(polled, { status: 200, headers: { 'content-type': 'application/json' } }),
    );
  };
  const h = storeHarness({ fetch, ...opts });
  await h.healthy(pushed);
  await h.clock.advance(30_000); // livenessMs: the first audit
  const afterFirst = polls;
  await h.clock.advance(120_000); // four more liveness windows
  const modes = h.modes();
  h.store.stop();
  h.client.dispose();
  return { polls, afterFirst, modes, unhandled: [...trap.seen] };
}

describe('the liveness audit when hasChanged throws', () => {
  it('a hasChanged that throws: no unhandled rejection, and the store keeps auditing', async () => {
    const r = await silentChannel(
      {
        hasChanged: () => {
          throw new Error('hasChanged failed');
        },
      },
      { v: 1 },
      '{"v":2}',
    );
    expect(r.afterFirst).toBe(1);
    // Today: one unhandled rejection, and polls stays 1 (the audit is stuck).
    expect({ unhandled: r.unhandled, auditsAgain: r.polls > 1 }).toEqual({
      unhandled: [],
      auditsAgain: true,
    });
  });

  it('the default hasChanged with a reducer that throws on the polled snapshot', async () => {
    const reduce = (_s: unknown, snap: object) => {
      if ((snap as { bad?: boolean }).bad) throw new Error('cannot reduce this');
      return snap;
    };
    const r = await silentChannel({ reduce }, { v: 1 }, '{"bad":true}');
    expect({ unhandled: r.unhandled, auditsAgain: r.polls > 1 }).toEqual({
      unhandled: [],
      auditsAgain: true,
    });
  });

  it('deeply nested server data (wire-valid JSON) overflows deepEqual in the default hasChanged', async () => {
    const text = deepText(20_000, 'object');
    const r = await silentChannel({}, { deep: JSON.parse(text) as object }, `{"deep":${text}}`);
    expect({ unhandled: r.unhandled, auditsAgain: r.polls > 1 }).toEqual({
      unhandled: [],
      auditsAgain: true,
    });
  });
});
