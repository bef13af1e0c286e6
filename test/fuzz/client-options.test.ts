// Fuzzing the options of createNamespacedClient, and of request(), emit() and requestStream().
// The oracle has two levels: options that break a documented rule (a non-string namespace, a
// timeout <= 0, ...) MUST throw VALIDATION_ERROR; an option whose value has another type than
// the documented one (socketOptions: 0, random: 'x') MAY be rejected the same way. Whatever is
// accepted must then work on fakes without an untyped throw, an unhandled rejection or a
// polluted prototype. Single cases that once crashed follow each property.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNamespacedClient, SyncwireError, type ClientOptions } from '../../src/index';
import { requestStream } from '../../src/stream';
import { createFakeClock } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import {
  anyString,
  anyValue,
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

const positiveOk = (v: unknown) =>
  v === undefined || (typeof v === 'number' && v > 0 && v <= 2 ** 31 - 1);
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
const timeoutish = mostly(
  fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.constant(2 ** 31 - 1), fc.constant(1e-9)),
  fc.oneof(fc.constantFrom(0, -5, NaN, Infinity, 2 ** 31), smallValue),
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
          // Out-of-range values too (NaN, negative, > 1): they must not make a backoff NaN (see store-options.test.ts, random() out of range).
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

  it.each([
    ['logger: "yes"', { logger: 'yes' }],
    ['logger: true', { logger: true }],
    ['logger: { enabled: 5 }', { logger: { enabled: 5 } }],
  ])('%s → VALIDATION_ERROR', async (_name, opts) => {
    expect(
      await outcome(() => createNamespacedClient('/x', { url: 'http://a', ...(opts as object) })),
    ).toBe('VALIDATION_ERROR');
  });

  it('clock: {} (not a Clock) → VALIDATION_ERROR at creation, not a TypeError on first use', async () => {
    expect(await outcome(() => offlineClient({ clock: {} }).connect())).toBe('VALIDATION_ERROR');
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
      'request(e, d, { signal: {} })',
      (c: ReturnType<typeof offlineClient>) => c.request('ev', {}, { signal: {} as AbortSignal }),
    ],
    [
      'request(e, d, { signal: "x" })',
      (c: ReturnType<typeof offlineClient>) => c.request('ev', {}, { signal: 'x' as never }),
    ],
    [
      'request(e, d, null)',
      (c: ReturnType<typeof offlineClient>) => c.request('ev', {}, null as never),
    ],
    ['emit(e, d, null)', (c: ReturnType<typeof offlineClient>) => c.emit('ev', {}, null as never)],
    [
      'requestStream(client, e, d) without options',
      (c: ReturnType<typeof offlineClient>) =>
        requestStream(c, 'ev', {}, undefined as never).next(),
    ],
  ])('%s → VALIDATION_ERROR', async (_name, call) => {
    const c = offlineClient();
    const r = await outcome(() => call(c));
    c.dispose();
    expect(r).toBe('VALIDATION_ERROR');
  });
});
