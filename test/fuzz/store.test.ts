// Fuzzing what reaches a sync store from the wire, through the fake socket and a fake
// /poll: state_push data, handshake acks, poll responses, and snapshot contents fed to
// the Agent Zero model. The store's state must stay unchanged on bad input, nothing may
// escape, every reported error is a SyncwireError, and no prototype gets polluted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncwireError } from '../../src/index';
import { createAgentZeroModel } from '../../src/agent-zero';
import { World } from '../../demo/server/world.mjs';
import { envelope } from '../helpers/fake-socket';
import { storeHarness } from '../helpers/store-harness';
import {
  anyString,
  anyValue,
  bigValue,
  deepText,
  expectTyped,
  guardEachRun,
  isPlain,
  merge,
  NASTY_KEYS,
  runs,
  smallValue,
  unprintable,
  wireJson,
  wireObject,
} from './arbitraries';

const trap = guardEachRun();

/** Every error the store or client reported is a SyncwireError. (Their codes: see 'non-string error fields in a handshake ack' below.) */
const expectAllTyped = (errors: unknown[]) =>
  errors.forEach((e) => expect(e).toBeInstanceOf(SyncwireError));

/** state_push data: valid, or any field replaced by anything, or not an object at all. */
const pushData = fc.oneof(
  { weight: 1, arbitrary: anyValue },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.record(
          {
            runtime_epoch: fc.oneof(fc.constant('E1'), fc.constant('E2'), anyString, anyValue),
            seq: fc.oneof(fc.constant(3), fc.integer({ min: -3, max: 6 }), fc.double(), anyValue),
            snapshot: fc.oneof(wireObject, anyValue, bigValue),
          },
          { requiredKeys: [] },
        ),
        fc.oneof(fc.constant({}), wireObject),
      )
      .map(([d, extra]) => merge(extra, d)),
  },
);

describe('state_push data', () => {
  it('is applied only when valid and next in sequence; otherwise the state is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(pushData, async (data) => {
        const h = storeHarness();
        await h.healthy({ v: 1 });
        const before = h.store.state;
        h.errors.length = 0;
        expect(() => h.socket().serverEmit('state_push', envelope(data))).not.toThrow();
        await h.clock.advance(0);
        const d = isPlain(data) ? data : undefined;
        const valid =
          !!d &&
          typeof d.runtime_epoch === 'string' &&
          Number.isInteger(d.seq) &&
          (d.seq as number) >= 0 &&
          isPlain(d.snapshot);
        if (valid && d.runtime_epoch === 'E1' && d.seq === 3) {
          expect(h.store.state).toBe(d.snapshot);
          expect(h.store.health.lastSeq).toBe(3);
        } else {
          expect(h.store.state).toBe(before);
          expect(h.store.health.lastSeq).toBe(2);
        }
        if (!valid) {
          expect(h.errors).toHaveLength(1);
          expectTyped(h.errors[0], ['INVALID_ENVELOPE']);
          expect(h.store.mode).toBe('HEALTHY');
        }
        // A gap or another epoch asks for a resync; nothing else changes the mode.
        if (valid && (d.runtime_epoch !== 'E1' || (d.seq as number) > 3))
          expect(h.store.mode).toBe('HANDSHAKE_PENDING');
        expectAllTyped(h.errors);
        h.store.stop();
        h.client.dispose();
        expect(h.clock.pending()).toBe(0);
      }),
      runs(300),
    );
  });

  it('a storm of mixed pushes never applies an older snapshot after a newer one', async () => {
    const push = fc.record({
      seq: fc.integer({ min: 0, max: 12 }),
      epoch: fc.constantFrom('E1', 'E1', 'E1', 'E0'),
      garbage: fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: anyValue.map((g) => ({ g })) },
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(push, { minLength: 1, maxLength: 40 }), async (pushes) => {
        const h = storeHarness<{ v: number }>();
        await h.healthy({ v: 2 });
        const seen: number[] = [];
        h.store.subscribe((e) => e.type === 'state' && seen.push(e.state.v));
        let last = 2;
        for (const p of pushes) {
          const data = p.garbage
            ? p.garbage.g
            : { runtime_epoch: p.epoch, seq: p.seq, snapshot: { v: p.seq } };
          const before = h.store.state;
          expect(() => h.socket().serverEmit('state_push', envelope(data))).not.toThrow();
          if (h.store.mode !== 'HEALTHY') break; // a gap or an epoch change: the period is over
          if (h.store.state !== before) {
            expect(h.store.state.v).toBe(last + 1);
            last = h.store.state.v;
          }
          expect(h.store.health.lastSeq).toBe(last);
        }
        await h.clock.advance(0);
        expect([...seen].sort((a, b) => a - b)).toEqual(seen);
        expectAllTyped(h.errors);
        h.store.stop();
        h.client.dispose();
      }),
      runs(200),
    );
  });
});

describe('handshake acks', () => {
  const ackArb = fc.oneof(
    { weight: 1, arbitrary: anyValue },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.record(
            {
              correlationId: fc.oneof(anyString, anyValue),
              results: fc.oneof(
                anyValue,
                fc.array(
                  fc.oneof(
                    anyValue,
                    fc.record(
                      {
                        handlerId: fc.oneof(anyString, anyValue),
                        ok: fc.oneof(fc.boolean(), anyValue),
                        data: fc.oneof(
                          fc.record(
                            {
                              runtime_epoch: fc.oneof(fc.constant('E1'), anyString, anyValue),
                              seq_base: fc.oneof(fc.constant(1), fc.integer(), anyValue),
                              push_correlation: fc.oneof(fc.boolean(), anyValue),
                              code: fc.oneof(
                                anyString,
                                fc.constantFrom('INVALID_REQUEST', 'NO_HANDLERS'),
                              ),
                              message: anyString,
                            },
                            { requiredKeys: [] },
                          ),
                          anyValue,
                        ),
                        // Any code and message, strings or not (non-strings: see 'non-string error fields in a handshake ack' below).
                        error: fc.oneof(
                          fc.record(
                            {
                              code: fc.oneof(
                                anyString,
                                fc.constantFrom(
                                  'INVALID_REQUEST',
                                  'NO_HANDLERS',
                                  'CSRF_INVALID',
                                  'TIMEOUT',
                                ),
                                smallValue,
                              ),
                              error: fc.oneof(anyString, smallValue),
                            },
                            { requiredKeys: [] },
                          ),
                          smallValue,
                        ),
                      },
                      { requiredKeys: ['ok'] },
                    ),
                  ),
                  { maxLength: 3 },
                ),
              ),
            },
            { requiredKeys: [] },
          ),
          fc.oneof(fc.constant({}), wireObject),
        )
        .map(([a, extra]) => merge(extra, a)),
    },
  );

  it('any ack: the state stays unchanged, nothing escapes, every error is typed', async () => {
    await fc.assert(
      fc.asyncProperty(ackArb, async (ack) => {
        const h = storeHarness();
        void h.store.start();
        await h.connect();
        const req = h.requests().at(-1);
        expect(req?.ack).toBeTypeOf('function');
        expect(() => req!.ack!(ack)).not.toThrow();
        await h.clock.advance(0);
        expect(h.store.state).toEqual({});
        expect(['HANDSHAKE_PENDING', 'DEGRADED', 'FAILED', 'DISCONNECTED']).toContain(h.store.mode);
        expectAllTyped(h.errors);
        // Server data never becomes a non-string code or message.
        h.errors.forEach((e) =>
          expect([typeof e.code, typeof e.message]).toEqual(['string', 'string']),
        );
        const last = h.store.health.lastError;
        if (last) expect([typeof last.code, typeof last.message]).toEqual(['string', 'string']);
        // Whatever happened, time goes on without a throw and stop() cleans up.
        await h.clock.advance(5000);
        expectAllTyped(h.errors);
        h.store.stop();
        h.client.dispose();
        expect(h.clock.pending()).toBe(0);
      }),
      runs(300),
    );
  });
});

describe('poll responses', () => {
  const statuses = fc.constantFrom(200, 200, 200, 201, 204, 400, 403, 404, 500, 503);
  /** A response body, printed short in counterexamples. */
  const text = (t: string) => ({
    t,
    [fc.toStringMethod]: () =>
      t.length > 120 ? `<${t.length} chars: ${t.slice(0, 60)}…>` : JSON.stringify(t),
  });
  const body = fc.oneof(
    wireJson.map((v) => text(JSON.stringify(v))),
    wireObject.map((v) => text(JSON.stringify(v))),
    fc
      .constantFrom(
        '',
        'not json',
        '{"a":',
        '<html>',
        'null',
        '[]',
        '"s"',
        '1e999',
        '{"__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
      )
      .map(text),
    bigValue.map((v) => text(JSON.stringify(v))),
  );
  const outcome = fc.oneof(
    { weight: 5, arbitrary: fc.record({ status: statuses, text: body }) },
    // fetch itself rejecting, with anything (values String() throws on: see 'values String() cannot print' below)
    { weight: 1, arbitrary: anyValue.map((reason) => ({ reason })) },
  );

  it('a degraded store applies exactly the 2xx plain-object answers; anything else leaves the state unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(outcome, async (o) => {
        let calls = 0;
        const fetch = () => {
          calls++;
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejecting with non-Errors is what is fuzzed
          if ('reason' in o) return Promise.reject(o.reason);
          const nullBody = o.status === 204;
          return Promise.resolve(
            new Response(nullBody ? null : o.text.t, {
              status: o.status,
              headers: { 'content-type': 'application/json' },
            }),
          );
        };
        const h = storeHarness({ fetch, initialState: { initial: true } });
        void h.store.start();
        await h.clock.advance(3000); // no connection within the grace period: DEGRADED, polling
        expect(h.store.mode).toBe('DEGRADED');
        expect(calls).toBeGreaterThanOrEqual(1);
        let parsed: unknown = undefined;
        if ('text' in o && o.status >= 200 && o.status < 300 && o.status !== 204) {
          try {
            parsed = JSON.parse(o.text.t);
          } catch {
            parsed = undefined;
          }
        }
        if (isPlain(parsed)) {
          // JSON text, not toEqual: the matcher's recursion would overflow on the deep values.
          expect(JSON.stringify(h.store.state)).toBe(JSON.stringify(parsed));
          expect(h.store.health.source).toBe('poll');
        } else {
          expect(h.store.state).toEqual({ initial: true });
          expect(h.errors.length).toBeGreaterThanOrEqual(1);
          h.errors.forEach((e) => expectTyped(e, ['POLL_FAILED', 'CONNECT_ERROR']));
        }
        expectAllTyped(h.errors);
        h.store.stop();
        h.client.dispose();
        expect(h.clock.pending()).toBe(0);
      }),
      runs(250),
    );
  });
});

describe('Agent Zero snapshots', () => {
  const world = new World();
  const ctx = world.addChat('fuzz');
  for (let i = 0; i < 5; i++) world.appendLog(ctx, { heading: `h${i}`, content: `c${i}` });
  const good = world.buildSnapshot({
    context: ctx,
    log_from: 0,
    notifications_from: 0,
    timezone: 'UTC',
  }) as unknown as Record<string, unknown>;
  const FIELDS = Object.keys(good);
  const item = fc.oneof(
    smallValue,
    fc.record(
      {
        no: fc.oneof(fc.integer({ min: 0, max: 8 }), smallValue),
        id: fc.oneof(anyString, smallValue),
        content: smallValue,
      },
      { requiredKeys: [] },
    ),
  );
  /** A real snapshot with some fields replaced by anything (arrays of odd items, nasty keys, huge or deep values). */
  const hostile = fc
    .tuple(
      fc.dictionary(
        fc.constantFrom(...FIELDS, ...NASTY_KEYS),
        fc.oneof(
          { weight: 4, arbitrary: smallValue },
          { weight: 4, arbitrary: fc.array(item, { maxLength: 4 }) },
          { weight: 1, arbitrary: bigValue },
        ),
        { maxKeys: 5 },
      ),
      fc.boolean(),
    )
    .map(([patch, keep]) =>
      merge(
        keep ? good : {},
        JSON.parse(
          JSON.stringify(
            Object.fromEntries(
              Object.entries(patch).filter(([, v]) => {
                try {
                  JSON.stringify(v);
                  return true;
                } catch {
                  return false;
                }
              }),
            ),
          ),
        ) as object,
      ),
    );

  it('the model either applies a well-formed state or reports REDUCE_ERROR and keeps the state', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostile,
        fc.constantFrom<'push' | 'poll'>('push', 'poll'),
        async (snapshot, via) => {
          const model = createAgentZeroModel({ timezone: 'UTC' });
          model.selected = ctx;
          const h = storeHarness({ ...model });
          await h.healthy(good);
          const before = h.store.state;
          expect(before.logs).toHaveLength(5);
          h.errors.length = 0;
          if (via === 'push')
            expect(() =>
              h
                .socket()
                .serverEmit('state_push', envelope({ runtime_epoch: 'E1', seq: 3, snapshot })),
            ).not.toThrow();
          else {
            // The liveness audit reduces a polled snapshot without applying it (a reducer that
            // throws there must not be an unhandled rejection: see 'the liveness audit when hasChanged throws' below).
            h.fetch.respond(() => ({ status: 200, body: snapshot }));
            await h.clock.advance(30_000);
          }
          await h.clock.advance(0);
          const s = h.store.state;
          const reduceFailed = h.errors.some((e) => e.code === 'REDUCE_ERROR');
          if (reduceFailed || via === 'poll') {
            if (via === 'push') expect(s).toBe(before);
          } else {
            for (const k of ['contexts', 'tasks', 'logs', 'notifications'] as const)
              expect(Array.isArray(s[k])).toBe(true);
            for (const k of ['log_version', 'notifications_version'] as const)
              expect(Number.isFinite(s[k])).toBe(true);
            for (const k of ['context', 'log_guid', 'notifications_guid'] as const)
              expect(typeof s[k]).toBe('string');
          }
          expectAllTyped(h.errors);
          h.store.stop();
          h.client.dispose();
        },
      ),
      runs(250),
    );
  }, 60_000); // hostile snapshots are big: several seconds, and more than 15 s on a loaded machine
});

// A state_request ack's error item is the server's data, unchecked: its `code` and `error`
// may be anything. Reported errors must still be SyncwireErrors with string codes and
// messages, and the handshake must settle.
describe('non-string error fields in a handshake ack', () => {
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
    const r = await ackWith({ code: 'BUSY', error: unprintable() });
    expect(r.unhandled).toEqual([]);
    expect(r.mode).toBe('DEGRADED'); // a failed, non-deterministic handshake degrades and retries
  });
});

// The liveness audit compares the polled snapshot with the state through hasChanged(). If that
// throws (the user's hasChanged, the reducer inside the default one, or deepEqual overflowing
// the stack on server data nested a few thousand levels deep: valid JSON), the audit must end
// all the same: no unhandled rejection, and the store audits again at the next silent window.
describe('the liveness audit when hasChanged throws', () => {
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
    // A stuck audit would leave polls at 1, after one unhandled rejection.
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

// String(e) throws for {"toString":{}} (as JSON.parse makes it): the store's error paths must
// not throw in turn when a subscriber or fetch throws or rejects with such a value.
describe('values String() cannot print, thrown at the store', () => {
  it('a store subscriber throwing {"toString":{}} does not escape the notify timer', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    h.store.subscribe(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- throwing a non-Error is the point
      throw unprintable();
    });
    await h.push(3, { v: 2 });
    let escaped: unknown;
    try {
      await h.clock.advance(100); // the coalesced notify (at most every notifyIntervalMs)
    } catch (e) {
      escaped = e;
    }
    h.store.stop();
    h.client.dispose();
    expect(escaped).toBeUndefined();
  });

  it('fetch rejecting with {"toString":{}} during a poll is a POLL_FAILED, not an unhandled rejection; polling goes on', async () => {
    trap.seen.length = 0;
    let calls = 0;
    const h = storeHarness({
      fetch: () => {
        calls++;
        if (calls === 1) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejecting with non-Errors is what is fuzzed
          return Promise.reject(unprintable());
        }
        return Promise.resolve(new Response('{"v":2}', { status: 200 }));
      },
    });
    void h.store.start();
    await h.clock.advance(3000); // no connection: DEGRADED, first poll
    await h.clock.advance(5000); // the next polls
    h.store.stop();
    h.client.dispose();
    expect(trap.seen).toEqual([]);
    expect(calls).toBeGreaterThan(1);
    expect(h.store.state).toEqual({ v: 2 });
  });
});
