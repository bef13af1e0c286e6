// STATUS: failed against src/ when written; passes since commit 05ce55a ("Harden bad input: ...",
// made while this suite was being written). Kept as a regression test.
// REPRO: a state_request ack whose error item carries a non-string `code` or
// `error` (the server's data, unchecked) flows straight into the store's error reporting
// (src/store/store.ts handshake(): `const err = item?.error ?? ...` then
// nack(err?.code ?? ..., err?.error ?? ...)). The result:
//  - onError listeners get a SyncwireError whose `code` is a number or an object, and
//    store.health.lastError.code / .message are not strings, so "every failure is a
//    SyncwireError with a stable code" does not hold;
//  - with `error: {"toString":{}}` the SyncwireError constructor's String conversion throws
//    a TypeError inside the request's .then(), i.e. an unhandled rejection, and the
//    handshake is never settled (the store stays HANDSHAKE_PENDING until its timer).
// Also worth knowing (by design today, but outside the documented code list): string codes
// from the server (INVALID_REQUEST, NO_HANDLERS, ...) are reported as SyncwireError.code
// although SyncwireErrorCode does not list them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeHarness } from '../helpers/store-harness';
import { trapUnhandled } from './arbitraries';

const trap = trapUnhandled();
beforeAll(() => trap.install());
afterAll(() => trap.uninstall());

async function ackWith(error: unknown) {
  trap.seen.length = 0;
  const h = storeHarness();
  void h.store.start();
  await h.connect();
  const req = h.requests().at(-1)!;
  const cid = (req.payload as { correlationId: string }).correlationId;
  req.ack!({ correlationId: cid, results: [{ handlerId: 'h', ok: false, error }] });
  await h.clock.advance(0);
  const out = {
    errors: [...h.errors],
    lastError: h.store.health.lastError,
    mode: h.store.mode,
    unhandled: [...trap.seen],
  };
  h.store.stop();
  h.client.dispose();
  return out;
}

describe('non-string error fields in a handshake ack', () => {
  it.each([
    ['a number code', { code: 503, error: 'busy' }],
    ['an object code', { code: { nested: true }, error: 'odd' }],
    ['an array error message', { code: 'BUSY', error: ['a', 'b'] }],
  ])('%s: every reported error has a string code and message', async (_name, error) => {
    const r = await ackWith(error);
    expect(r.unhandled).toEqual([]);
    expect(r.errors.length).toBeGreaterThan(0);
    for (const e of r.errors) {
      expect(typeof e.code).toBe('string');
      expect(typeof e.message).toBe('string');
    }
    expect(typeof r.lastError?.code).toBe('string');
    expect(typeof r.lastError?.message).toBe('string');
  });

  it('error: {"toString":{}} (as JSON.parse makes it) is reported, not an unhandled rejection', async () => {
    const r = await ackWith({ code: 'BUSY', error: JSON.parse('{"toString":{}}') as object });
    expect(r.unhandled).toEqual([]);
    expect(r.mode).toBe('DEGRADED'); // a failed, non-deterministic handshake degrades and retries
  });
});
