// Fuzzing the options of createNamespacedClient and createSyncStore. The oracle has two
// levels: options that break a documented rule (a non-string namespace, a timeout <= 0, an
// unknown timing key, ...) MUST throw VALIDATION_ERROR; an option whose value has another
// type than the documented one (socketOptions: 0, random: 'x') MAY be rejected the same
// way. Whatever is accepted must then work on fakes without an untyped throw, an unhandled
// rejection or a polluted prototype. (The cases that used to crash are pinned one by one in
// options.repro.test.ts and payload-throws.repro.test.ts.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createNamespacedClient,
  createSyncStore,
  SyncwireError,
  type ClientOptions,
} from '../../src/index';
import { persistence } from '../../src/persist';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import { fakeEnvironment, fakeFetch, mapStorage } from '../helpers/store-harness';
import {
  anyString,
  anyValue,
  expectTyped,
  guardEachRun,
  isPlain,
  runs,
  smallValue,
  wireObject,
} from './arbitraries';

guardEachRun();

const positiveOk = (v: unknown) =>
  v === undefined || (typeof v === 'number' && v > 0 && v <= 2 ** 31 - 1);
const fnOrAbsent = (v: unknown) => v === undefined || typeof v === 'function';
/** The documented client options (README): any other name is refused. */
const CLIENT_OPTION_NAMES = [
  'url',
  'auth',
  'csrfTokenUrl',
  'requestTimeoutMs',
  'connectTimeoutMs',
  'authTimeoutMs',
  'maxPayloadBytes',
  'maxPending',
  'retry',
  'socketOptions',
  'logger',
  'clock',
  'random',
  'fetch',
  'socketFactory',
];
/** The documented rule for `url`: an absolute http(s) URL. */
const isHttpUrl = (v: unknown) => {
  try {
    return typeof v === 'string' && ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
};
const objOrAbsent = (v: unknown) => v === undefined || v === null || isPlain(v);
/** Usually a valid value, sometimes anything: so that most generated option objects are accepted. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: other });
const timeoutish = mostly(
  fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.constant(2 ** 31 - 1), fc.constant(1e-9)),
  fc.oneof(fc.constantFrom(0, -5, NaN, Infinity, 2 ** 31), smallValue),
);
/** Settles a promise without ever leaving it unhandled; resolves to the rejection reason, or undefined. */
const reason = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e ?? new Error('rejected with nothing'),
  );

describe('createNamespacedClient options', () => {
  const tokenFetch = () =>
    Promise.resolve(
      new Response(JSON.stringify({ ok: true, token: 'tok', runtime_id: 'r1' }), { status: 200 }),
    );
  const authArb = mostly(
    fc.oneof(
      fc.constant(undefined),
      fc.constant({ csrf_token: 't' }),
      wireObject,
      anyValue.map((v) => () => v),
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejecting with non-Errors is what is fuzzed
      anyValue.map((v) => () => Promise.reject(v)),
      anyValue.map((v) => () => Promise.resolve(v)),
    ),
    smallValue.filter((v) => v !== undefined),
  );
  const optionsArb = fc.oneof(
    { weight: 1, arbitrary: smallValue },
    {
      weight: 6,
      arbitrary: fc.record(
        {
          url: mostly(
            fc.constantFrom('http://127.0.0.1:9', 'https://example.test', 'not a url but a string'),
            fc.oneof(anyString, smallValue),
          ),
          auth: authArb,
          requestTimeoutMs: timeoutish,
          connectTimeoutMs: timeoutish,
          authTimeoutMs: timeoutish,
          maxPayloadBytes: timeoutish,
          retry: mostly(
            fc.record({ baseMs: timeoutish, maxMs: timeoutish }, { requiredKeys: [] }),
            smallValue,
          ),
          socketOptions: mostly(wireObject, anyValue),
          logger: mostly(
            fc.oneof(
              fc.constant(undefined),
              fc.record(
                {
                  enabled: fc.oneof(
                    fc.boolean(),
                    fc.constant(['connect', 'push']),
                    fc.constant(['bogus']),
                    fc.constant([]),
                  ),
                },
                { requiredKeys: [] },
              ),
            ),
            fc.oneof(
              smallValue,
              smallValue.map((enabled) => ({ enabled })),
            ),
          ),
          // Out-of-range values too (NaN, negative, > 1): they used to make backoffs NaN (options.repro: random out of range).
          random: mostly(
            fc.constantFrom(
              undefined,
              () => 0.5,
              () => 0,
              () => 1,
              () => NaN,
              () => -3,
              () => 7,
            ),
            smallValue,
          ),
          clock: mostly(
            fc.constant('fake'),
            fc.oneof(
              fc.constant({ now: () => 0 }),
              smallValue.filter((v) => v !== undefined),
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    },
  );

  it('throws VALIDATION_ERROR for invalid options (and only for invalid or mistyped ones); a created client settles everything typed', async () => {
    let created = 0;
    const params = runs(300);
    await fc.assert(
      fc.asyncProperty(
        mostly(
          fc.constantFrom('/x', 'x', '  /y  ', '/a/b'),
          fc.oneof(fc.constantFrom('', ' '), anyString, smallValue),
        ),
        optionsArb,
        async (ns, raw) => {
          const clock = createFakeClock();
          const factory = fakeSocketFactory();
          const o: Record<string, unknown> = isPlain(raw) ? raw : {};
          const opts = isPlain(raw)
            ? {
                ...raw,
                clock: o.clock === 'fake' || !('clock' in o) ? clock : o.clock,
                socketFactory: factory,
                fetch: tokenFetch,
              }
            : raw;
          const retry = o.retry as Record<string, unknown> | null | undefined;
          const url = o.url ?? location.origin;
          // Documented rules: breaking one must throw.
          const mustThrow = !(
            typeof ns === 'string' &&
            ns.trim() !== '' &&
            (isPlain(raw) || raw === undefined) &&
            isHttpUrl(url) &&
            Object.keys(o).every((k) => CLIENT_OPTION_NAMES.includes(k)) &&
            (!isPlain(retry) || Object.keys(retry).every((k) => k === 'baseMs' || k === 'maxMs')) &&
            (!isPlain(o.logger) ||
              Object.keys(o.logger).every((k) => ['enabled', 'sink', 'warn'].includes(k))) &&
            ['requestTimeoutMs', 'connectTimeoutMs', 'authTimeoutMs', 'maxPayloadBytes'].every(
              (k) => positiveOk(o[k]),
            ) &&
            (!isPlain(retry) || (positiveOk(retry.baseMs) && positiveOk(retry.maxMs)))
          );
          // Values of another type than documented: may be rejected too.
          const logger = o.logger as Record<string, unknown> | undefined;
          const mistyped =
            !objOrAbsent(o.retry) ||
            !objOrAbsent(o.socketOptions) ||
            !fnOrAbsent(o.random) ||
            !(o.auth === undefined || typeof o.auth === 'function' || isPlain(o.auth)) ||
            !(
              logger === undefined ||
              (isPlain(logger) &&
                (logger.enabled === undefined ||
                  typeof logger.enabled === 'boolean' ||
                  Array.isArray(logger.enabled)))
            ) ||
            !(o.clock === undefined || o.clock === 'fake') ||
            (Array.isArray(logger?.enabled) && !logger.enabled.every((c) => typeof c === 'string'));
          let client;
          try {
            client = createNamespacedClient(ns as string, opts as ClientOptions);
          } catch (e) {
            expectTyped(e, ['VALIDATION_ERROR']);
            expect(typeof (e.details as { field?: unknown }).field).toBe('string');
            expect(mustThrow || mistyped).toBe(true);
            return;
          }
          expect(mustThrow).toBe(false);
          created++;
          expect(client.namespace).toBe('/' + (ns as string).trim().replace(/^\//, ''));
          if (raw === undefined) return client.dispose(); // the defaults would open a real socket to the page's origin
          const errors: unknown[] = [];
          client.onError((e) => void errors.push(e));
          // A lenient client that took a mistyped value must still fail typed (or not at all), never with a TypeError.
          let escaped: unknown;
          try {
            const outcomes = [
              reason(client.connect()),
              reason(client.request('echo', {}, { timeoutMs: 50 })),
              reason(client.emit('echo', {})),
            ];
            const off = client.on('news', () => {});
            const socket = factory.last();
            void socket.runAuth();
            await clock.advance(10);
            await clock.advance(
              Math.min(typeof o.authTimeoutMs === 'number' ? o.authTimeoutMs : 5000, 10_000),
            );
            socket.accept();
            await clock.advance(100);
            socket.serverEmit('news', envelope({ n: 1 }));
            socket.reject(); // a rejection: the retry path (backoff, random)
            await clock.advance(20_000);
            off();
            client.dispose();
            await clock.advance(0);
            (await Promise.all(outcomes)).forEach((e) => e === undefined || expectTyped(e));
          } catch (e) {
            escaped = e;
          }
          client.dispose();
          expect(escaped).toBeUndefined();
          errors.forEach((e) => expect(e).toBeInstanceOf(SyncwireError));
          expect(clock.pending()).toBe(0);
        },
      ),
      params,
    );
    expect(created).toBeGreaterThan(params.numRuns / 10); // not a property about rejections only
  }, 120_000); // FUZZ_RUNS may make it long; the default run takes about a second
});

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
      // Out-of-range values too (NaN, negative, > 1): they used to make backoffs NaN (options.repro: random out of range).
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
});
