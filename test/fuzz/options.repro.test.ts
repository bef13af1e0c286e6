// STATUS: every case below failed against src/ when written. They pass since commits 05ce55a
// ("Harden bad input: option checks at creation, ...") and 0741eb3 ("... clamp injected
// randomness", for "random() out of range"); the persist-plugin cases since the commit
// "persist: a plugin's result is checked at creation". Kept as regression tests.
// REPRO: option values that createNamespacedClient / createSyncStore /
// request() / emit() / requestStream() do not validate, and that then fail with a plain
// TypeError (thrown, rejected, or thrown later from a timer or socket listener) instead of
// a SyncwireError VALIDATION_ERROR. Found by test/fuzz/options.test.ts and
// test/fuzz/request.test.ts. Each case: where it breaks, and what it should do.
import { describe, expect, it } from 'vitest';
import { persistence } from '../../src/persist';
import { createNamespacedClient, createSyncStore, SyncwireError } from '../../src/index';
import { requestStream } from '../../src/stream';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { fakeSocketFactory } from '../helpers/fake-socket';
import { fakeEnvironment, fakeFetch, storeHarness } from '../helpers/store-harness';
import type { Clock } from '../../src/index';

const classify = (e: unknown) =>
  e instanceof SyncwireError
    ? e.code
    : `untyped ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`;
/** 'ok', a SyncwireError code, or 'untyped …' for anything else thrown or rejected. */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    const r = fn();
    if (r && typeof (r as Promise<unknown>).then === 'function')
      return await (r as Promise<unknown>).then(() => 'ok', classify);
    return 'ok';
  } catch (e) {
    return classify(e);
  }
}
const fakeClient = (extra: Record<string, unknown> = {}) =>
  createNamespacedClient('/repro', {
    url: 'http://127.0.0.1:9',
    auth: {},
    clock: createFakeClock(),
    socketFactory: fakeSocketFactory(),
    ...extra,
  });

describe('createNamespacedClient options', () => {
  it.each([
    ['logger: "yes" (client.ts: `"log" in options.logger`)', { logger: 'yes' }],
    ['logger: true', { logger: true }],
    [
      'logger: { enabled: 5 } (logger.ts createLogger: `.forEach` of a number)',
      { logger: { enabled: 5 } },
    ],
  ])('%s → VALIDATION_ERROR', async (_name, opts) => {
    expect(
      await outcome(() => createNamespacedClient('/x', { url: 'http://a', ...(opts as object) })),
    ).toBe('VALIDATION_ERROR');
  });

  it('clock: {} (not a Clock) → VALIDATION_ERROR at creation, not a TypeError on first use', async () => {
    expect(await outcome(() => fakeClient({ clock: {} }).connect())).toBe('VALIDATION_ERROR');
  });

  it('random: "x" → VALIDATION_ERROR, not a TypeError thrown from the connect_error listener on the first rejection', async () => {
    const factory = fakeSocketFactory();
    let created: string;
    let escaped = 'ok';
    created = await outcome(() => {
      const c = createNamespacedClient('/x', {
        url: 'http://a',
        auth: {},
        clock: createFakeClock(),
        socketFactory: factory,
        random: 'x' as never,
      });
      c.connect().catch(() => {});
    });
    if (created === 'ok') {
      escaped = await outcome(() => factory.last().reject('Connection rejected by server')); // scheduleRetry → backoffDelay → random()
      created = 'created';
    }
    expect({ created, escaped }).toEqual({ created: 'VALIDATION_ERROR', escaped: 'ok' });
  });
});

describe('request(), emit() and requestStream() options', () => {
  it.each([
    [
      'request(e, d, { signal: {} }) (client.ts: signal?.addEventListener)',
      (c: ReturnType<typeof fakeClient>) => c.request('ev', {}, { signal: {} as AbortSignal }),
    ],
    [
      'request(e, d, { signal: "x" })',
      (c: ReturnType<typeof fakeClient>) => c.request('ev', {}, { signal: 'x' as never }),
    ],
    [
      'request(e, d, null)',
      (c: ReturnType<typeof fakeClient>) => c.request('ev', {}, null as never),
    ],
    ['emit(e, d, null)', (c: ReturnType<typeof fakeClient>) => c.emit('ev', {}, null as never)],
    [
      'requestStream(client, e, d) without options (stream.ts: options.correlationId)',
      (c: ReturnType<typeof fakeClient>) => requestStream(c, 'ev', {}, undefined as never).next(),
    ],
  ])('%s → VALIDATION_ERROR', async (_name, call) => {
    const c = fakeClient();
    const r = await outcome(() => call(c));
    c.dispose();
    expect(r).toBe('VALIDATION_ERROR');
  });
});

describe('createSyncStore options', () => {
  it.each([
    [
      'pollUrl: "http://[" (store.ts: new URL(pollUrl, client.url))',
      () => ({ client: fakeClient(), pollUrl: 'http://[' }),
    ],
    [
      "a client whose url is not a URL ('not a url')",
      () => ({ client: fakeClient({ url: 'not a url' }) }),
    ],
    ['client: {} (anything truthy passes the check)', () => ({ client: {} })],
    [
      'timing: { toString: 5 } (the `k in DEFAULT_TIMING` check accepts inherited names)',
      () => ({ client: fakeClient(), timing: { toString: 5 } }),
    ],
    // Found on 12-01: any function passed the persist check, and stop() then called cache.flush on what it returned.
    [
      'persist: () => [] (a function, but not a cache plugin; store.ts stop(): cache?.flush)',
      () => ({ client: fakeClient(), persist: () => [] }),
    ],
    [
      'persist: () => ({ load() {} }) (a cache without save and flush)',
      () => ({ client: fakeClient(), persist: () => ({ load() {} }) }),
    ],
    [
      'persist: a plugin that throws (the error is typed, with its message kept)',
      () => ({
        client: fakeClient(),
        persist: () => {
          throw new Error('no cache');
        },
      }),
    ],
  ])('%s → VALIDATION_ERROR', async (_name, make) => {
    expect(await outcome(() => createSyncStore(make() as never))).toBe('VALIDATION_ERROR');
  });

  it.each([
    ['environment: 5 (store.ts start(): env.read())', { environment: 5 }],
    ['random: "x" (store.ts dispatch(): random())', { random: 'x' }],
  ])('%s → VALIDATION_ERROR at creation, not a TypeError from start()', async (_name, extra) => {
    const r = await outcome(() =>
      createSyncStore({
        client: fakeClient(),
        fetch: fakeFetch(),
        environment: fakeEnvironment(),
        ...(extra as object),
      }).start(),
    );
    expect(r).toBe('VALIDATION_ERROR');
  });

  it('persist.storage.set throwing synchronously is a STORAGE_ERROR, not an exception out of the save timer (store.ts save())', async () => {
    const storage = {
      get: () => Promise.resolve(undefined),
      set: () => {
        throw new Error('quota exceeded');
      },
    };
    const h = storeHarness({ persist: persistence({ storage, throttleMs: 10 }) });
    let escaped = 'ok';
    try {
      await h.healthy({ v: 1 });
      await h.clock.advance(50);
    } catch (e) {
      escaped = classify(e);
    }
    await flush();
    h.store.stop();
    h.client.dispose();
    expect({ escaped, reported: h.errors.some((e) => e.code === 'STORAGE_ERROR') }).toEqual({
      escaped: 'ok',
      reported: true,
    });
  });
  it.each([
    ['rejects', () => Promise.reject(new Error('disk gone'))],
    [
      'throws',
      () => {
        throw new Error('disk gone');
      },
    ],
  ])(
    'a custom cache whose load() %s (against its contract) is reported, and the store syncs from the network (store.ts start(): await cache.load())',
    async (_how, load) => {
      const persist = () => ({ load, save() {}, flush() {} });
      const h = storeHarness({ persist: persist as never });
      const started = outcome(() => h.store.start());
      await flush();
      await h.connect();
      await h.ack('E1');
      await h.push(2, { v: 1 });
      const result = await started;
      const mode = h.store.mode;
      h.store.stop();
      h.client.dispose();
      expect({
        result,
        mode,
        reported: h.errors.some(
          (e) => e.code === 'HANDLER_ERROR' && e.message.includes('disk gone'),
        ),
      }).toEqual({ result: 'ok', mode: 'HEALTHY', reported: true });
    },
  );
});

describe('random() out of range', () => {
  it.each([
    ['NaN', () => NaN],
    ['-3', () => -3],
  ])(
    'random: () => %s never makes a backoff NaN or negative, i.e. a 1 ms hot retry loop (machine.ts jitter / clock.ts backoffDelay use it unclamped)',
    async (_name, random) => {
      const fake = createFakeClock();
      const delays: number[] = [];
      // Records every delay the store and client ask for; a NaN or negative delay is a 1 ms timer in a browser.
      const clock: Clock = {
        now: () => fake.now(),
        setTimeout: (fn, ms) => (delays.push(ms), fake.setTimeout(fn, ms)),
        clearTimeout: (h) => fake.clearTimeout(h),
      };
      const factory = fakeSocketFactory();
      const client = createNamespacedClient('/state_sync', {
        url: 'http://127.0.0.1:9',
        auth: {},
        clock,
        socketFactory: factory,
        random,
      });
      const store = createSyncStore({
        client,
        fetch: fakeFetch(),
        environment: fakeEnvironment(),
        random,
        timing: { backoffBaseMs: 100, backoffMaxMs: 400 },
      });
      void store.start();
      await flush();
      await factory.last().runAuth();
      factory.last().accept();
      await flush();
      const req = factory
        .last()
        .sent.filter((x) => x.event === 'state_request')
        .at(-1);
      req?.ack?.({
        correlationId: 'x',
        results: [{ ok: false, error: { code: 'BUSY', error: 'busy' } }],
      }); // a retryable failure: backoff
      await flush();
      factory.last().reject(); // and a connect rejection: the client's own backoff
      await flush();
      store.stop();
      client.dispose();
      // 0 ms is legitimate for some timers (the coalesced notify, "poll now"); NaN and negative delays are not.
      expect(delays.filter((ms) => !(ms >= 0))).toEqual([]);
    },
  );
});
