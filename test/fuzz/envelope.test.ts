// Fuzzing server → client envelopes: validateServerEnvelope on its own, and what
// client.on subscribers (and server requests with an ack) receive through a fake socket.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNamespacedClient,
  validateServerEnvelope,
  SyncwireError,
  type NamespacedClient,
  type ServerEnvelope,
} from '../../src/index';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory, type FakeSocket } from '../helpers/fake-socket';
import {
  anyValue,
  envelopeLike,
  expectNoPollution,
  expectTyped,
  guardEachRun,
  isPlain,
  offlineClient,
  runs,
  unprintable,
} from './arbitraries';

// Anything can be thrown, including values String() throws on ({"toString":{}}, null
// prototypes); single cases of those are pinned at the end of this file.
const throwable = anyValue;

const trap = guardEachRun();

const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;
/** An oracle written from PROTOCOL.md, independent of the implementation. */
const acceptable = (v: unknown): v is Record<string, unknown> =>
  isPlain(v) &&
  nonEmpty(v.handlerId) &&
  nonEmpty(v.eventId) &&
  nonEmpty(v.correlationId) &&
  nonEmpty(v.ts) &&
  !Number.isNaN(Date.parse(v.ts as string)) &&
  (v.data === null || v.data === undefined || isPlain(v.data));

/** The envelope a subscriber must see for an accepted value. */
function expectDelivered(env: ServerEnvelope, v: Record<string, unknown>) {
  expect(Object.isFrozen(env)).toBe(true);
  expect(Object.isFrozen(env.data)).toBe(true);
  expect(Object.keys(env).sort()).toEqual(['correlationId', 'data', 'eventId', 'handlerId', 'ts']);
  expect([env.handlerId, env.eventId, env.correlationId, env.ts]).toEqual([
    v.handlerId,
    v.eventId,
    v.correlationId,
    v.ts,
  ]);
  const data = (v.data ?? {}) as Record<string | symbol, unknown>;
  const keys = Reflect.ownKeys(data).filter((k) =>
    Object.prototype.propertyIsEnumerable.call(data, k),
  );
  const names = (ks: (string | symbol)[]) => ks.map((k) => String(k)).sort();
  expect(names(Reflect.ownKeys(env.data))).toEqual(names(keys));
  for (const k of keys)
    expect(Object.is((env.data as Record<string | symbol, unknown>)[k], data[k])).toBe(true);
}

describe('validateServerEnvelope', () => {
  it('accepts exactly the valid envelopes; anything else is INVALID_ENVELOPE naming the field', () => {
    fc.assert(
      fc.property(envelopeLike, (v) => {
        let out: ServerEnvelope | undefined;
        try {
          out = validateServerEnvelope(v);
        } catch (e) {
          expectTyped(e, ['INVALID_ENVELOPE']);
          expect(typeof (e.details as { field?: unknown }).field).toBe('string');
          expect(acceptable(v)).toBe(false);
          return;
        }
        expect(acceptable(v)).toBe(true);
        expectDelivered(out, v as Record<string, unknown>);
      }),
      runs(500),
    );
    expectNoPollution();
  });
});

describe('client.on through a fake socket', () => {
  let client: NamespacedClient;
  let socket: FakeSocket;
  const errors: unknown[] = [];
  const got: ServerEnvelope[] = [];
  const subscriber = (env: ServerEnvelope) => void got.push(env);

  beforeAll(async () => {
    const factory = fakeSocketFactory();
    client = createNamespacedClient('/fuzz', {
      url: 'http://127.0.0.1:9',
      auth: {},
      clock: createFakeClock(),
      socketFactory: factory,
    });
    client.onError((e) => void errors.push(e));
    client.on('news', subscriber);
    socket = factory.last();
    await socket.runAuth();
    socket.accept();
  });
  afterAll(() => client.dispose());

  it('subscribers get a frozen, validated envelope or nothing (and onError hears INVALID_ENVELOPE)', () => {
    fc.assert(
      fc.property(envelopeLike, (v) => {
        got.length = 0;
        errors.length = 0;
        expect(() => socket.serverEmit('news', v)).not.toThrow();
        if (acceptable(v)) {
          expect(got).toHaveLength(1);
          expectDelivered(got[0]!, v);
          expect(errors).toEqual([]);
        } else {
          expect(got).toEqual([]);
          expect(errors).toHaveLength(1);
          expectTyped(errors[0], ['INVALID_ENVELOPE']);
        }
      }),
      runs(400),
    );
  });

  it('a server request is answered exactly once, one result per subscriber, whatever the subscribers do', async () => {
    const serialisable = (v: unknown) => {
      if (v && typeof (v as { then?: unknown }).then === 'function') return true; // a thenable: what it resolves to is sent
      try {
        JSON.stringify({ ok: true, data: v === undefined ? {} : v });
        return true;
      } catch {
        return false;
      }
    };
    const behaviour = fc.oneof(
      anyValue.map((v) => ({ kind: 'return' as const, v })),
      throwable.map((v) => ({ kind: 'throw' as const, v })),
      throwable.map((v) => ({ kind: 'reject' as const, v })),
      anyValue.map((v) => ({ kind: 'resolve' as const, v })),
    );
    await fc.assert(
      fc.asyncProperty(
        envelopeLike,
        fc.array(behaviour, { maxLength: 3 }),
        async (v, behaviours) => {
          const offs = behaviours.map((b) =>
            client.on('ask', () => {
              if (b.kind === 'throw') throw b.v;
              // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejecting with non-Errors is what is fuzzed
              if (b.kind === 'reject') return Promise.reject(b.v);
              if (b.kind === 'resolve') return Promise.resolve(b.v);
              return b.v;
            }),
          );
          const acks: unknown[] = [];
          try {
            expect(() => socket.serverEmit('ask', v, (a: unknown) => acks.push(a))).not.toThrow();
            await flush();
            await flush();
            if (!behaviours.length) {
              // Nobody subscribed: the client has no listener for the event, so the server's own timeout answers.
              expect(acks).toEqual([]);
              return;
            }
            expect(acks).toHaveLength(1);
            const ack = acks[0] as {
              correlationId: unknown;
              results: { ok: boolean; data?: unknown; error?: { code: string; error: unknown } }[];
            };
            if (!acceptable(v)) {
              expect(ack.results).toEqual([
                {
                  ok: false,
                  error: { code: 'INVALID_ENVELOPE', error: expect.any(String) as string },
                },
              ]);
              return;
            }
            expect(ack.correlationId).toBe(v.correlationId);
            expect(ack.results).toHaveLength(behaviours.length);
            ack.results.forEach((r, i) => {
              const b = behaviours[i]!;
              // An answer Socket.IO could not serialise (a cycle, a BigInt, a throwing toJSON) becomes an error item too.
              const unsendable =
                (b.kind === 'return' || b.kind === 'resolve') && !serialisable(b.v);
              if (b.kind === 'throw' || b.kind === 'reject' || unsendable) {
                expect(r).toEqual({
                  ok: false,
                  error: { code: 'HANDLER_ERROR', error: expect.any(String) as string },
                });
              } else {
                expect(r.ok).toBe(true);
                // A thenable resolves to its value; undefined becomes {}.
                if (
                  b.v !== undefined &&
                  !(b.v && typeof (b.v as { then?: unknown }).then === 'function')
                )
                  expect(Object.is(r.data, b.v)).toBe(true);
              }
            });
          } finally {
            offs.forEach((off) => off());
          }
        },
      ),
      runs(300),
    );
  });

  it('a subscriber that throws anything neither stops the others nor escapes; onError gets a SyncwireError', () => {
    fc.assert(
      fc.property(throwable, (thrown) => {
        const after: number[] = [];
        errors.length = 0;
        const off1 = client.on('boom', () => {
          throw thrown;
        });
        const off2 = client.on('boom', () => void after.push(1));
        try {
          expect(() =>
            socket.serverEmit('boom', {
              handlerId: 'h',
              eventId: 'e',
              correlationId: 'c',
              ts: '2026-01-01T00:00:00Z',
              data: {},
            }),
          ).not.toThrow();
          expect(after).toEqual([1]);
          expect(errors).toHaveLength(1);
          expect(errors[0]).toBeInstanceOf(SyncwireError);
          expectTyped(errors[0], ['HANDLER_ERROR']);
        } finally {
          off1();
          off2();
        }
      }),
      runs(200),
    );
  });
});

// String(e) throws a TypeError for an object whose toString/valueOf are not functions (JSON's
// {"toString":{}}) or that has no prototype. Turning such a thrown value into an error message
// must not throw in turn: the subscribers after it must run, and a server request must still
// be answered.
describe('subscribers throwing values String() cannot print', () => {
  const nullProto = () => Object.create(null) as object;
  async function connected() {
    const factory = fakeSocketFactory();
    const client = offlineClient({ socketFactory: factory });
    void client.connect();
    await factory.last().runAuth();
    factory.last().accept();
    return { client, socket: factory.last() };
  }

  it.each([
    ['{"toString":{}}', unprintable],
    ['Object.create(null)', nullProto],
  ])(
    'a subscriber throwing %s does not stop the others and reaches onError as HANDLER_ERROR',
    async (_name, make) => {
      const { client, socket } = await connected();
      const errors: unknown[] = [];
      client.onError((e) => void errors.push(e));
      const later: number[] = [];
      client.on('news', () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- throwing a non-Error is the point
        throw make();
      });
      client.on('news', () => void later.push(1));
      let escaped: unknown;
      try {
        socket.serverEmit('news', envelope({}));
      } catch (e) {
        escaped = e;
      }
      client.dispose();
      expect(escaped).toBeUndefined();
      expect(later).toEqual([1]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(SyncwireError);
    },
  );

  it('a server request whose subscriber rejects with {"toString":{}} is still answered (HANDLER_ERROR), with no unhandled rejection', async () => {
    const { client, socket } = await connected();
    trap.seen.length = 0;
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejecting with non-Errors is what is fuzzed
    client.on('ask', () => Promise.reject(unprintable()));
    const acks: unknown[] = [];
    socket.serverEmit('ask', envelope({}), (a: unknown) => acks.push(a));
    for (let i = 0; i < 5; i++) await flush();
    client.dispose();
    expect(trap.seen).toEqual([]);
    expect(acks).toEqual([
      {
        correlationId: expect.any(String) as string,
        results: [
          { ok: false, error: { code: 'HANDLER_ERROR', error: expect.any(String) as string } },
        ],
      },
    ]);
  });
});
