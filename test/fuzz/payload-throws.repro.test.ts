// STATUS: failed against src/ when written; passes since commit 05ce55a ("Harden bad input: ...",
// made while this suite was being written). Kept as a regression test.
// REPRO: the store wraps payload() in try/catch for handshakes
// (src/store/store.ts handshake(): "payload() threw" → a VALIDATION_ERROR nack), but not
// for polls and liveness audits: the 'poll' and 'audit' effects call
// fetchSnapshot(payload(...)) directly inside run(), inside dispatch(), inside the poll or
// live timer's callback. A payload() that throws (or a payload option that is not a
// function, which createSyncStore does not check) therefore throws out of a timer: an
// uncaught exception in the page, the poll loop ends, and the rest of that dispatch's
// effects are skipped. Found by test/fuzz/options.test.ts.
import { describe, expect, it } from 'vitest';
import { storeHarness } from '../helpers/store-harness';

describe('payload() throwing outside the handshake', () => {
  it('while degraded (polling): reported as a typed error, never thrown out of the poll timer', async () => {
    let calls = 0;
    const h = storeHarness({
      payload: () => {
        calls++;
        if (calls > 1) throw new Error('payload cannot be built now');
        return { context: null, log_from: 0, notifications_from: 0, timezone: 'UTC' };
      },
    });
    void h.store.start(); // call 1: the handshake's payload is never built (no connection); the grace timer degrades
    let escaped: unknown;
    try {
      await h.clock.advance(3000 + 1000);
    } catch (e) {
      escaped = e;
    }
    h.store.stop();
    h.client.dispose();
    expect(escaped).toBeUndefined();
    expect(h.errors.length).toBeGreaterThan(0);
  });

  it('a payload option that is not a function: createSyncStore rejects it, or the store reports it typed', async () => {
    let thrownAtCreate: unknown;
    let escaped: unknown;
    try {
      const h = storeHarness({ payload: 'not a function' as never });
      void h.store.start();
      try {
        await h.clock.advance(4000);
      } catch (e) {
        escaped = e;
      }
      h.store.stop();
      h.client.dispose();
    } catch (e) {
      thrownAtCreate = e;
    }
    expect(escaped).toBeUndefined();
    if (thrownAtCreate) expect((thrownAtCreate as { code?: string }).code).toBe('VALIDATION_ERROR');
  });
});
