// Fuzzing what reaches a sync store from the wire, through the fake socket and a fake
// /poll: state_push data, handshake acks, poll responses, and snapshot contents fed to
// the Agent Zero model. The store's state must stay unchanged on bad input, nothing may
// escape, every reported error is a SyncwireError, and no prototype gets polluted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncwireError } from '../../src/index';
import { createAgentZeroModel, type AgentZeroState } from '../../src/agent-zero';
import { World } from '../../demo/server/world.mjs';
import { envelope } from '../helpers/fake-socket';
import { storeHarness } from '../helpers/store-harness';
import {
  anyString,
  anyValue,
  bigValue,
  expectTyped,
  guardEachRun,
  isPlain,
  merge,
  NASTY_KEYS,
  runs,
  smallValue,
  wireJson,
  wireObject,
} from './arbitraries';

guardEachRun();

/** Every error the store or client reported is a SyncwireError. (Codes: see handshake-code.repro.test.ts.) */
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
                        // Any code and message, strings or not (non-strings: handshake-code.repro.test.ts).
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
    // fetch itself rejecting, with anything (values String() throws on: message-of.repro.test.ts)
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
          const h = storeHarness<AgentZeroState>({ ...model });
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
            // throws there used to be an unhandled rejection: audit-throws.repro.test.ts).
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
