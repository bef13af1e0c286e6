// Fuzzing the options of createSyncStore, on fakes. The oracle has two levels: options that
// break a documented rule (an unknown timing key, a delay <= 0, ...) MUST throw
// VALIDATION_ERROR; an option whose value has another type than the documented one MAY be
// rejected the same way. Whatever is accepted must then sync, poll, audit and stop without an
// untyped throw, an unhandled rejection or a polluted prototype. Single cases that once crashed
// follow the property: options checked at creation, a persist plugin or
// storage that fails, payload() throwing outside the handshake, random() out of range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNamespacedClient, createSyncStore, SyncwireError } from '../../src/index';
import { persistence } from '../../src/persist';
import { createFakeClock, flush, recordingClock } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import { fakeEnvironment, fakeFetch, mapStorage, storeHarness } from '../helpers/store-harness';
import {
  anyString,
  anyValue,
  classify,
  expectTyped,
  fnOrAbsent,
  guardEachRun,
  isPlain,
  mostly,
  objOrAbsent,
  offlineClient,
  outcome,
  reason,
  runs,
  smallValue,
  wireObject,
} from './arbitraries';

guardEachRun();

describe('createSyncStore options', () => {
  const base = 'http://127.0.0.1:9';
  const urlOk = (v: unknown) => {
    try {
      new URL(v as string, base);
      return true;
    } catch {
      return false;
    }
  };
  /** The documented store options (README): any other name is refused. */
  const STORE_KEYS = [
    'client',
    'pollUrl',
    'payload',
    'reduce',
    'initialState',
    'persist',
    'timing',
    'hasChanged',
    'fetch',
    'environment',
    'random',
  ];
  const TIMING_KEYS = [
    'handshakeTimeoutMs',
    'pollIntervalMs',
    'connectGraceMs',
    'livenessMs',
    'backoffBaseMs',
    'backoffMaxMs',
    'pollBackoffMaxMs',
    'notifyIntervalMs',
  ];
  // Every timing is at least 1 ms (notifyIntervalMs may be 0): 0 is rejected, since a 0 ms
  // poll interval or backoff would spin. Generated valid values start at 50 ms.
  const nonNegative = fc.oneof(
    fc.integer({ min: 50, max: 10_000 }),
    fc.constantFrom(-1, NaN, Infinity, 2 ** 31, 0.5, -0.5),
    smallValue,
  );
  const timingArb = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.dictionary(
        fc.constantFrom(...TIMING_KEYS),
        fc.integer({ min: 50, max: 10_000 }),
        { maxKeys: 4 },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.constantFrom(...TIMING_KEYS), nonNegative, { maxKeys: 4 }),
    },
    {
      weight: 1,
      arbitrary: fc.dictionary(
        fc.constantFrom(...TIMING_KEYS, 'toString', 'constructor', 'valueOf', 'hasOwnProperty'),
        fc.integer({ min: 50, max: 5000 }),
        { maxKeys: 3 },
      ),
    },
    { weight: 1, arbitrary: wireObject },
  );
  const tinyNumber = (t: unknown) =>
    isPlain(t) && Object.values(t).some((v) => typeof v === 'number' && v >= 0 && v < 50);
  const storeOptions = fc.record(
    {
      pollUrl: mostly(
        fc.constantFrom('/poll', '/api/poll', 'http://127.0.0.1:9/x', 'poll?x=1'),
        fc.oneof(fc.constant('http://['), anyString, smallValue),
      ),
      payload: mostly(
        fc.oneof(
          fc.constant(undefined),
          anyValue.map((v) => () => v),
          fc.constant((s: unknown) => s),
          anyValue.map((v) => () => {
            throw v;
          }),
        ),
        smallValue.filter((v) => v !== undefined),
      ),
      reduce: mostly(
        fc.oneof(
          fc.constant(undefined),
          anyValue.map((v) => () => v),
          anyValue.map((v) => () => {
            throw v;
          }),
        ),
        smallValue.filter((v) => v !== undefined),
      ),
      initialState: anyValue,
      persist: mostly(
        fc.constantFrom(false, undefined, 'storage', 'broken', 'sync-throw'),
        smallValue,
      ),
      timing: mostly(timingArb, smallValue).filter((t) => !tinyNumber(t)),
      hasChanged: mostly(
        fc.oneof(
          fc.constant(undefined),
          anyValue.map((v) => () => v),
          anyValue.map((v) => () => {
            throw v;
          }),
        ),
        smallValue.filter((v) => v !== undefined),
      ),
      // Out-of-range values too (NaN, negative, > 1): they must not make a backoff NaN (random() out of range, below).
      random: mostly(
        fc.constantFrom(
          undefined,
          () => 0.5,
          () => 0,
          () => 0.999,
          () => NaN,
          () => -3,
          () => 7,
        ),
        smallValue.filter((v) => v !== undefined),
      ),
    },
    { requiredKeys: [] },
  );

  it('throws VALIDATION_ERROR for invalid options (and only for invalid or mistyped ones); a created store syncs, polls, audits and stops with typed errors only', async () => {
    let created = 0;
    const params = runs(200);
    await fc.assert(
      fc.asyncProperty(mostly(storeOptions, smallValue), async (raw) => {
        const clock = createFakeClock();
        const factory = fakeSocketFactory();
        const fetch = fakeFetch();
        const client = createNamespacedClient('/state_sync', {
          url: base,
          auth: { csrf_token: 't' },
          clock,
          socketFactory: factory,
        });
        const errors: unknown[] = [];
        client.onError((e) => void errors.push(e));
        const o: Record<string, unknown> = isPlain(raw) ? raw : {};
        const asyncStorage = (broken: boolean) => {
          const m = mapStorage();
          m.broken = broken;
          return {
            get: (k: string) => Promise.resolve().then(() => m.get(k)),
            set: (k: string, v: unknown) => Promise.resolve().then(() => m.set(k, v)),
          };
        };
        // A persist value that is none of ours (a random function or value) is no cache plugin.
        const ours = ['storage', 'broken', 'sync-throw'].includes(o.persist as string);
        const persist =
          o.persist === 'storage'
            ? persistence({ storage: asyncStorage(false) })
            : o.persist === 'broken'
              ? persistence({ storage: asyncStorage(true) })
              : o.persist === 'sync-throw'
                ? persistence({ storage: mapStorage() }) // structuredClone throws synchronously on functions/symbols in the state
                : o.persist;
        const options = isPlain(raw)
          ? { ...raw, persist, client, fetch, environment: fakeEnvironment() }
          : raw;
        const timing = o.timing;
        const mustThrow =
          !isPlain(raw) ||
          Object.keys(raw).some((k) => !STORE_KEYS.includes(k)) ||
          (Boolean(o.persist) && !ours) ||
          (isPlain(timing) &&
            !Object.entries(timing).every(
              ([k, v]) =>
                TIMING_KEYS.includes(k) &&
                typeof v === 'number' &&
                v >= (k === 'notifyIntervalMs' ? 0 : 1) &&
                v <= 2 ** 31 - 1,
            ));
        const mistyped =
          !objOrAbsent(timing) ||
          !['payload', 'reduce', 'hasChanged', 'random'].every((k) => fnOrAbsent(o[k])) ||
          !(o.pollUrl === undefined || (typeof o.pollUrl === 'string' && urlOk(o.pollUrl)));
        let store;
        try {
          store = createSyncStore(options as never);
        } catch (e) {
          expectTyped(e, ['VALIDATION_ERROR']);
          expect(mustThrow || mistyped).toBe(true);
          client.dispose();
          return;
        }
        expect(mustThrow).toBe(false);
        created++;
        let escaped: unknown;
        let started: Promise<unknown> = Promise.resolve();
        try {
          started = reason(store.start());
          await clock.advance(0);
          const socket = factory.last();
          await socket.runAuth();
          socket.accept();
          await flush();
          const req = socket.sent.filter((s) => s.event === 'state_request').at(-1);
          const cid = (req?.payload as { correlationId?: string } | undefined)?.correlationId;
          req?.ack?.({
            correlationId: cid,
            results: [{ handlerId: 'h', ok: true, data: { runtime_epoch: 'E1', seq_base: 1 } }],
          });
          await flush();
          socket.serverEmit(
            'state_push',
            envelope({ runtime_epoch: 'E1', seq: 2, snapshot: { v: 1 } }),
          );
          fetch.respond(() => ({ status: 200, body: { v: 2 } }));
          // The liveness audit (payload, hasChanged) after a silent window, then degraded polling.
          const live =
            isPlain(timing) && typeof timing.livenessMs === 'number' ? timing.livenessMs : 30_000;
          await clock.advance(Math.min(live, 10_000) + 50);
          socket.drop('transport close');
          await clock.advance(5000);
          store.stop();
          client.dispose();
          await clock.advance(0);
        } catch (e) {
          escaped = e;
        }
        store.stop();
        client.dispose();
        expect(escaped).toBeUndefined();
        const e = await started;
        if (e !== undefined) expectTyped(e);
        errors.forEach((err) => expect(err).toBeInstanceOf(SyncwireError));
        expect(clock.pending()).toBe(0);
      }),
      params,
    );
    expect(created).toBeGreaterThan(params.numRuns / 10);
  }, 120_000); // FUZZ_RUNS may make it long; the default run takes about a second

  it.each([
    [
      'pollUrl: "http://[" (not a URL relative to the client\'s)',
      () => ({ client: offlineClient(), pollUrl: 'http://[' }),
    ],
    [
      "a client whose url is not a URL ('not a url')",
      () => ({ client: offlineClient({ url: 'not a url' }) }),
    ],
    ['client: {} (anything truthy passes the check)', () => ({ client: {} })],
    [
      'timing: { toString: 5 } (the `k in DEFAULT_TIMING` check accepts inherited names)',
      () => ({ client: offlineClient(), timing: { toString: 5 } }),
    ],
    // A persist option must be a cache plugin, not just any function: stop() flushes what it returns.
    [
      'persist: () => [] (a function, but not a cache plugin)',
      () => ({ client: offlineClient(), persist: () => [] }),
    ],
    [
      'persist: () => ({ load() {} }) (a cache without save and flush)',
      () => ({ client: offlineClient(), persist: () => ({ load() {} }) }),
    ],
    [
      'persist: a plugin that throws (the error is typed, with its message kept)',
      () => ({
        client: offlineClient(),
        persist: () => {
          throw new Error('no cache');
        },
      }),
    ],
  ])('%s → VALIDATION_ERROR', async (_name, make) => {
    expect(await outcome(() => createSyncStore(make() as never))).toBe('VALIDATION_ERROR');
  });

  it.each([
    ['environment: 5', { environment: 5 }],
    ['random: "x"', { random: 'x' }],
  ])('%s → VALIDATION_ERROR at creation, not a TypeError from start()', async (_name, extra) => {
    const r = await outcome(() =>
      createSyncStore({
        client: offlineClient(),
        fetch: fakeFetch(),
        environment: fakeEnvironment(),
        ...(extra as object),
      }).start(),
    );
    expect(r).toBe('VALIDATION_ERROR');
  });

  it('persist.storage.set throwing synchronously is a STORAGE_ERROR, not an exception out of the save timer', async () => {
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
    'a custom cache whose load() %s (against its contract) is reported, and the store syncs from the network',
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
    'random: () => %s never makes a backoff NaN or negative, i.e. a 1 ms hot retry loop',
    async (_name, random) => {
      // Records every delay the store and client ask for; a NaN or negative delay is a 1 ms timer in a browser.
      const clock = recordingClock(createFakeClock());
      const delays = clock.delays;
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

// The store builds payload() for handshakes, polls and liveness audits; the last two run inside
// a timer's callback, so a payload() that throws (or a payload option that is not a function)
// must be reported typed, not thrown out of the timer (which would end the poll loop).
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
