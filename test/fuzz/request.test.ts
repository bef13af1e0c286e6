// Fuzzing request/ack and emit: any ack the server sends back, and any event name, data
// and options a caller passes to request() / emit(). Every promise settles; a rejection
// is a SyncwireError with a documented code; nothing is sent when validation fails.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespacedClient, EVENT_NAME, type NamespacedClient } from '../../src/index';
import { createFakeClock, flush, type FakeClock } from '../helpers/fake-clock';
import { fakeSocketFactory, type FakeSocket } from '../helpers/fake-socket';
import {
  anyString,
  anyValue,
  cyclic,
  expectTyped,
  guardEachRun,
  isPlain,
  merge,
  offlineClient,
  outcome,
  runs,
  smallValue,
  wireObject,
} from './arbitraries';

guardEachRun();

const RESERVED = [
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
];
const jsonOk = (v: unknown) => {
  try {
    JSON.stringify(v);
    return true;
  } catch {
    return false;
  }
};

let client: NamespacedClient;
let socket: FakeSocket;
let clock: FakeClock;
const errors: unknown[] = [];
beforeAll(async () => {
  clock = createFakeClock();
  const factory = fakeSocketFactory();
  client = createNamespacedClient('/fuzz', {
    url: 'http://127.0.0.1:9',
    auth: {},
    clock,
    socketFactory: factory,
    maxPayloadBytes: 200_000,
  });
  client.onError((e) => void errors.push(e));
  void client.connect();
  socket = factory.last();
  await socket.runAuth();
  socket.accept();
});
afterAll(() => client.dispose());

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown } | undefined;
/**
 * Watches `p` from now on (so a rejection is handled at once) and returns a function that
 * waits a few macrotasks for it to settle: the outcome, or undefined if still pending.
 */
const watch = <T>(p: Promise<T>) => {
  let out: Outcome<T>;
  p.then(
    (value) => (out = { ok: true, value }),
    (error: unknown) => (out = { ok: false, error }),
  );
  return async (): Promise<Outcome<T>> => {
    for (let i = 0; i < 5 && !out; i++) await flush();
    return out;
  };
};

describe('request acks', () => {
  const item = fc.oneof(
    smallValue,
    fc
      .tuple(
        fc.record(
          {
            ok: fc.oneof(fc.boolean(), smallValue),
            handlerId: fc.oneof(anyString, smallValue),
            data: smallValue,
            error: smallValue,
          },
          { requiredKeys: [] },
        ),
        fc.oneof(fc.constant({}), wireObject),
      )
      .map(([r, e]) => merge(e, r)),
  );
  const ackArb = fc.oneof(
    { weight: 1, arbitrary: anyValue },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.record(
            {
              correlationId: fc.oneof(anyString, smallValue),
              results: fc.oneof(smallValue, fc.array(item, { maxLength: 4 })),
            },
            { requiredKeys: [] },
          ),
          fc.oneof(fc.constant({}), wireObject),
        )
        .map(([a, e]) => merge(e, a)),
    },
  );
  /** PROTOCOL.md: `{ correlationId, results: [{ ok: boolean, ... }] }`; anything else is INVALID_ENVELOPE. */
  const validAck = (v: unknown): v is { correlationId?: unknown; results: unknown[] } =>
    isPlain(v) &&
    Array.isArray(v.results) &&
    v.results.every((r) => isPlain(r) && typeof r.ok === 'boolean');

  it('resolves with the ack as sent when it is well-formed, rejects INVALID_ENVELOPE otherwise; a second ack is ignored', async () => {
    await fc.assert(
      fc.asyncProperty(ackArb, fc.option(ackArb), async (ack, second) => {
        const sent = socket.sent.length;
        const outcome = watch(client.request('ask', { q: 1 }, { timeoutMs: 1000 }));
        await flush();
        const out = socket.sent[sent];
        expect(out?.event).toBe('ask');
        const id = (out!.payload as { correlationId: string }).correlationId;
        expect(() => out!.ack!(ack)).not.toThrow();
        if (second !== null) expect(() => out!.ack!(second)).not.toThrow();
        const r = await outcome();
        expect(r).toBeDefined();
        if (validAck(ack)) {
          expect(r).toEqual({
            ok: true,
            value: {
              correlationId:
                typeof ack.correlationId === 'string' && ack.correlationId ? ack.correlationId : id,
              results: ack.results,
            },
          });
          expect((r as { value: { results: unknown } }).value.results).toBe(ack.results);
        } else {
          expect(r!.ok).toBe(false);
          expectTyped((r as { error: unknown }).error, ['INVALID_ENVELOPE']);
        }
        expect(clock.pending()).toBe(0); // the timeout timer went with the answer
      }),
      runs(400),
    );
  });

  it('no ack at all: TIMEOUT at exactly timeoutMs on the injected clock', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60_000 }), async (timeoutMs) => {
        const outcome = watch(client.request('ask', {}, { timeoutMs }));
        await flush();
        await clock.advance(timeoutMs - 1);
        expect(await outcome()).toBeUndefined();
        await clock.advance(1);
        const r = await outcome();
        expect(r?.ok).toBe(false);
        expectTyped((r as { error: unknown }).error, ['TIMEOUT']);
      }),
      runs(200),
    );
  });
});

describe('request() and emit() inputs', () => {
  // Including names JSON.stringify throws on (BigInt, cycles): see also the single cases below.
  const eventArb = fc.oneof(
    fc.constantFrom('echo', 'a', 'state_request', 'x9_y'),
    fc.constantFrom(...RESERVED),
    anyString,
    smallValue,
  );
  const dataArb = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    wireObject,
    anyValue,
    fc.constant({ big: 'x'.repeat(300_000) }),
  );
  // 'bogus': something that is not an AbortSignal (single cases: client-options.test.ts).
  const signalArb = fc.constantFrom('none', 'live', 'aborted', 'abort-later', 'bogus');
  const optsArb = fc.record(
    {
      timeoutMs: fc.oneof(
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom(0, -1, NaN, Infinity, 2 ** 31, 2 ** 31 - 1, 0.5),
        smallValue,
      ),
      correlationId: fc.oneof(
        fc.constantFrom('mine', '  padded  ', '', '   '),
        anyString,
        smallValue,
      ),
    },
    { requiredKeys: [] },
  );
  const validEvent = (e: unknown) =>
    typeof e === 'string' && EVENT_NAME.test(e) && !RESERVED.includes(e);
  const validData = (d: unknown) => d === null || d === undefined || (isPlain(d) && jsonOk({ d }));
  const validTimeout = (t: unknown) =>
    t === undefined || (typeof t === 'number' && t > 0 && t <= 2 ** 31 - 1);
  const validId = (c: unknown) =>
    c === undefined || c === null || (typeof c === 'string' && c.trim().length > 0);
  const tooBig = (d: unknown) => isPlain(d) && JSON.stringify(d).length > 199_000;

  it('request(): rejects with the right code and sends nothing, or sends exactly one well-formed packet', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventArb,
        dataArb,
        optsArb,
        signalArb,
        async (event, data, opts, signalKind) => {
          const ctl = new AbortController();
          if (signalKind === 'aborted') ctl.abort();
          const options =
            signalKind === 'none'
              ? opts
              : { ...opts, signal: signalKind === 'bogus' ? { aborted: false } : ctl.signal };
          const sent = socket.sent.length;
          let outcome!: () => Promise<Outcome<unknown>>;
          expect(
            () =>
              (outcome = watch(client.request(event as string, data as object, options as never))),
          ).not.toThrow();
          if (signalKind === 'abort-later') ctl.abort();
          await flush();
          const packets = socket.sent.slice(sent);
          const valid =
            validEvent(event) &&
            validTimeout(opts.timeoutMs) &&
            validData(data) &&
            validId(opts.correlationId) &&
            !tooBig(data) &&
            signalKind !== 'bogus';
          if (!valid || signalKind === 'aborted') {
            expect(packets).toEqual([]);
            const r = await outcome();
            expect(r?.ok).toBe(false);
            const e = (r as { error: unknown }).error;
            if (!valid) expectTyped(e, ['VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE']);
            else expectTyped(e, ['ABORTED']);
            return;
          }
          if (signalKind === 'abort-later') {
            const r0 = await outcome();
            expectTyped((r0 as { error: unknown }).error, ['ABORTED']);
            return;
          }
          expect(packets).toHaveLength(1);
          const payload = packets[0]!.payload as {
            ts: string;
            data: unknown;
            correlationId: string;
          };
          expect(Object.keys(payload).sort()).toEqual(['correlationId', 'data', 'ts']);
          expect(payload.data).toBe(data ?? payload.data);
          if (data === null || data === undefined) expect(payload.data).toEqual({});
          if (opts.correlationId !== undefined && opts.correlationId !== null)
            expect(payload.correlationId).toBe((opts.correlationId as string).trim());
          else expect(payload.correlationId).toMatch(/^request-[0-9a-f-]{36}$/);
          packets[0]!.ack!({ correlationId: payload.correlationId, results: [] });
          const r = await outcome();
          expect(r).toEqual({
            ok: true,
            value: { correlationId: payload.correlationId, results: [] },
          });
        },
      ),
      runs(400),
    );
  });

  it('emit(): resolves once its one packet is acknowledged (or sent, unconfirmed), or rejects typed and sends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventArb,
        dataArb,
        fc.record(
          { correlationId: optsArb.map((o) => o.correlationId), confirm: fc.boolean() },
          { requiredKeys: [] },
        ),
        async (event, data, opts) => {
          const sent = socket.sent.length;
          let outcome!: () => Promise<Outcome<unknown>>;
          expect(
            () => (outcome = watch(client.emit(event as string, data as object, opts as never))),
          ).not.toThrow();
          await flush();
          const packets = socket.sent.slice(sent);
          const confirmed = opts.confirm !== false;
          if (confirmed) packets[0]?.ack?.(undefined); // the server's acknowledgement
          const r = await outcome();
          const valid =
            validEvent(event) && validData(data) && validId(opts.correlationId) && !tooBig(data);
          if (valid) {
            expect(r).toEqual({ ok: true, value: undefined });
            expect(packets).toHaveLength(1);
            expect(typeof packets[0]!.ack).toBe(confirmed ? 'function' : 'undefined');
          } else {
            expect(packets).toEqual([]);
            expectTyped((r as { error: unknown }).error, ['VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE']);
          }
        },
      ),
      runs(400),
    );
  });
});

// A VALIDATION_ERROR names the bad event name; printing it must not throw for names
// JSON.stringify cannot print.
describe('event names JSON.stringify cannot print', () => {
  it.each([
    ['a BigInt', () => 10n],
    ['a cyclic object', cyclic],
  ])('%s: emit(), request() and on() fail with VALIDATION_ERROR', async (_name, make) => {
    const c = offlineClient();
    const codes = await Promise.all([
      outcome(() => c.emit(make() as never, {})),
      outcome(() => c.request(make() as never, {})),
      outcome(() => c.on(make() as never, () => {})),
    ]);
    c.dispose();
    expect(codes).toEqual(['VALIDATION_ERROR', 'VALIDATION_ERROR', 'VALIDATION_ERROR']);
  });
});
