// Found by a review of the sync store: fallback and error-reporting bugs; each test failed before its fix (kept as regression tests).
import { describe, expect, it } from 'vitest';
import { persistence } from '../../src/persist';
import { flush } from '../helpers/fake-clock';
import { storeHarness } from '../helpers/store-harness';

describe('degraded fallback', () => {
  it('a connection that keeps dropping before the handshake completes still falls back to /poll', async () => {
    const h = storeHarness();
    h.fetch.respond(() => ({ status: 200, body: { from: 'poll' } }));
    void h.store.start();
    await flush();
    // Each connection lives 1.5 s (less than handshakeTimeoutMs, no ack comes), then drops;
    // Socket.IO reconnects 0.5 s later. For a minute, nothing ever reaches the page.
    for (let i = 0; i < 30; i++) {
      await h.connect();
      await h.clock.advance(1500);
      h.socket().drop('transport close');
      await h.clock.advance(500);
    }
    expect(h.requests().length).toBeGreaterThanOrEqual(30);
    expect(h.fetch.calls.length).toBeGreaterThan(0); // before the fix: 0 polls, mode flips DISCONNECTED/HANDSHAKE_PENDING forever
    expect(h.store.state).toEqual({ from: 'poll' });
  });
});

describe('error codes of the liveness audit', () => {
  it('a network failure during the liveness audit is not reported as VALIDATION_ERROR', async () => {
    let failing = false;
    const okFetch = storeHarness().fetch;
    const fetch = (url: string, init?: RequestInit) =>
      failing ? Promise.reject(new TypeError('Failed to fetch')) : okFetch(url, init);
    const h = storeHarness({ fetch, timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 1 });
    failing = true; // the network is gone; the push channel has not noticed yet
    await h.clock.advance(10_000); // the audit poll fails
    expect(h.errors.map((e) => e.code)).not.toContain('VALIDATION_ERROR'); // before the fix: VALIDATION_ERROR "liveness audit failed: Failed to fetch"
  });

  it('stop() during a liveness audit reports nothing afterwards', async () => {
    // A fetch that honours its AbortSignal, as the browser's does, and never answers by itself.
    const fetch = (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () =>
          reject(new DOMException('The operation was aborted.', 'AbortError')),
        ),
      );
    const h = storeHarness({ fetch, timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 1 });
    await h.clock.advance(10_000); // the audit poll is in flight
    const before = h.errors.length;
    h.store.stop();
    await flush();
    await flush();
    expect(h.errors.slice(before).map((e) => `${e.code}: ${e.message}`)).toEqual([]); // before the fix: a VALIDATION_ERROR after stop()
  });
});

describe('stop() during a slow cache read', () => {
  it('leaves no persist timer behind, and reports nothing later', async () => {
    const storage = { get: () => new Promise<unknown>(() => {}), set: () => Promise.resolve() }; // IndexedDB slow to open
    const h = storeHarness({ persist: persistence({ storage }) });
    void h.store.start();
    await flush();
    h.store.stop();
    h.client.dispose();
    await flush();
    expect(h.clock.pending()).toBe(0); // before the fix: the 1000 ms loadTimeoutMs timer is still scheduled
    await h.clock.advance(2000);
    expect(h.errors.map((e) => e.code)).toEqual([]); // before the fix: STORAGE_ERROR "reading the cached state failed" after stop()
  });
});
