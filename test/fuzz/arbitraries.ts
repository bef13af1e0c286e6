// Shared fast-check arbitraries and checks for the fuzz suites: what can cross the wire
// (JSON as Socket.IO and fetch deliver it, with `__proto__` / `constructor` keys as
// JSON.parse creates them, deep nesting and huge arrays) and what an in-process caller can
// hand the library (functions, symbols, BigInt, NaN, Map, class instances, cycles).
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createNamespacedClient, SyncwireError, type SyncwireErrorCode } from '../../src/index';
import { createFakeClock } from '../helpers/fake-clock';
import { fakeSocketFactory } from '../helpers/fake-socket';

/** Every code the README documents (plus OVERFLOW, declared in errors.ts). */
export const DOCUMENTED_CODES: readonly SyncwireErrorCode[] = [
  'VALIDATION_ERROR',
  'PAYLOAD_TOO_LARGE',
  'NOT_CONNECTED',
  'CONNECT_ERROR',
  'UNKNOWN_NAMESPACE',
  'TIMEOUT',
  'DISCONNECTED',
  'INVALID_ENVELOPE',
  'HANDLER_ERROR',
  'DISPOSED',
  'ABORTED',
  'STREAM_ERROR',
  'HANDSHAKE_FAILED',
  'POLL_FAILED',
  'REDUCE_ERROR',
  'STORAGE_ERROR',
  'OVERFLOW',
];

/** Keys that have bitten code walking parsed JSON. */
export const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'then',
  'length',
  'polluted',
];

const key = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_KEYS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 6 }) },
);

type Tree = null | boolean | number | string | { a: Tree[] } | { o: [string, Tree][] };

/** A JSON tree whose objects are written as text, so JSON.parse makes `__proto__` an own key, as on the wire. */
const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 12 }),
    fc.array(tie('t'), { maxLength: 4 }).map((a) => ({ a })),
    fc.array(fc.tuple(key, tie('t')), { maxLength: 5 }).map((o) => ({ o })),
  ),
})).t;

function toText(t: Tree): string {
  if (t === null || typeof t !== 'object') return JSON.stringify(t);
  if ('a' in t) return `[${t.a.map(toText).join(',')}]`;
  return `{${t.o.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
}

/** Any JSON value as JSON.parse would produce it from hostile text. */
export const wireJson: fc.Arbitrary<unknown> = tree.map((t) => JSON.parse(toText(t)) as unknown);
/** A JSON object (the usual shape of `data`) as JSON.parse would produce it. */
export const wireObject: fc.Arbitrary<Record<string, unknown>> = fc
  .array(fc.tuple(key, tree), { maxLength: 6 })
  .map((o) => JSON.parse(toText({ o })) as Record<string, unknown>);

/** JSON text nested `n` levels deep. */
export const deepText = (n: number, kind: 'array' | 'object') =>
  kind === 'array' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '{}' + '}'.repeat(n);
/** Gives a big value a short name in fast-check's counterexamples (the symbol key is invisible to JSON). */
const named = <T extends object>(name: string, v: T): T =>
  Object.defineProperty(v, fc.toStringMethod, { value: () => `<${name}>` });
/** Big values built once: deep nesting (JSON.parse accepts far more than 1000 levels) and huge arrays. */
export const BIG = {
  deepArray: named('2000-deep array', JSON.parse(deepText(2000, 'array')) as unknown[]),
  deepObject: named('2000-deep object', JSON.parse(deepText(2000, 'object')) as object),
  hugeArray: named(
    'array of 200000 numbers',
    Array.from({ length: 200_000 }, (_, i) => i),
  ),
  hugeObjects: named(
    'array of 20000 log-like objects',
    Array.from({ length: 20_000 }, (_, i) => ({ no: i, id: `id-${i}`, content: 'x' })),
  ),
};
export const bigValue: fc.Arbitrary<unknown> = fc.constantFrom(...Object.values(BIG));

class Thing {
  x = 1;
}
/** An object that holds itself: JSON.stringify throws on it. */
export const cyclic = () => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
};
/** {"toString":{}} as JSON.parse makes it (from the wire): String() throws on it. */
export const unprintable = () => JSON.parse('{"toString":{}}') as object;
/** Values no JSON parser produces, but an in-process caller (or a fake socket) can pass. */
export const nonJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(NaN),
  fc.constant(Infinity),
  fc.constant(-0),
  fc.bigInt(),
  fc.constant(Symbol('s')),
  fc.constant(() => 1),
  fc.constant(new Date(0)),
  fc.constant(new Date(NaN)),
  fc.constant(new Map([['a', 1]])),
  fc.constant(new Set([1])),
  fc.constant(/re/g),
  fc.constant(new Uint8Array([1, 2])),
  fc.constant(new Thing()),
  fc.constant(Object.create(null) as object),
  fc.constant(Object.freeze({ frozen: true })),
  fc.constant(Object.assign(new Array<number>(3), { 0: 1, 2: 3 })), // an array with a hole at 1
  fc.constant({
    toJSON: () => {
      throw new Error('toJSON throws');
    },
  }),
  fc.constant({ big: 1n }),
  fc.constant({ [Symbol('k')]: 1, ok: 1 }),
  fc.func(fc.anything()),
  fc.constant(cyclic()),
);

/** Wire JSON or non-JSON, never big (for places that nest many values). */
export const smallValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: wireJson },
  { weight: 1, arbitrary: nonJson },
);

/** Anything at all: wire JSON most of the time, sometimes big or non-JSON. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: wireJson },
  { weight: 2, arbitrary: nonJson },
  { weight: 1, arbitrary: bigValue },
);

/** A string that is sometimes fine, sometimes not. */
export const anyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    'a',
    'ok',
    'x'.repeat(300),
    '2026-11-23T12:00:00.000Z',
    'not a date',
    '__proto__',
  ),
);

/** Copies own keys with defineProperty, so an own `__proto__` key stays a key (as JSON.parse makes it). */
export function merge(...objects: object[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of objects)
    for (const k of Reflect.ownKeys(o))
      Object.defineProperty(out, k, {
        value: (o as any)[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return out;
}

const isoDate = fc.integer({ min: -8.64e15, max: 8.64e15 }).map((t) => new Date(t).toISOString());
/** A server envelope: valid, or with fields swapped for anything, dropped, or extra keys added. */
export const envelopeLike: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: anyValue },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.record(
          {
            handlerId: fc.oneof(fc.constant('h.Handler'), anyString, anyValue),
            eventId: fc.oneof(fc.constant('e-1'), anyString, anyValue),
            correlationId: fc.oneof(fc.constant('c-1'), anyString, anyValue),
            ts: fc.oneof(fc.constant('2026-11-23T12:00:00.000Z'), isoDate, anyString, anyValue),
            data: fc.oneof(wireObject, fc.constant(null), anyValue),
          },
          { requiredKeys: [] },
        ),
        fc.oneof(fc.constant({}), wireObject),
      )
      .map(([env, extra]) => merge(extra, env)),
  },
);

/** Throws unless `e` is a SyncwireError with a documented code (or one of `codes`). */
export function expectTyped(
  e: unknown,
  codes: readonly string[] = DOCUMENTED_CODES,
): asserts e is SyncwireError {
  if (!(e instanceof SyncwireError))
    throw new Error(`expected a SyncwireError, got ${describe(e)}`);
  if (typeof e.code !== 'string' || !codes.includes(e.code))
    throw new Error(`unexpected code ${describe(e.code)} (${e.message})`);
}

export function describe(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  try {
    return typeof e === 'bigint' ? `${e}n` : String(JSON.stringify(e));
  } catch {
    return String(e);
  }
}

const PROTOS = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
const baseline = PROTOS.map((p) => Reflect.ownKeys(p).map(String).sort());
/** No prototype was polluted by what just ran. */
export function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  PROTOS.forEach((p, i) => expect(Reflect.ownKeys(p).map(String).sort()).toEqual(baseline[i]));
}

/**
 * Collects unhandled rejections and uncaught exceptions while a suite runs (vitest
 * itself would also fail the run; this lets a property point at the input that did it).
 */
export function trapUnhandled() {
  const seen: string[] = [];
  const onRejection = (r: unknown) => void seen.push(`unhandledRejection: ${describe(r)}`);
  const onException = (e: unknown) => void seen.push(`uncaughtException: ${describe(e)}`);
  return {
    seen,
    install() {
      process.on('unhandledRejection', onRejection);
      process.on('uncaughtException', onException);
    },
    uninstall() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/**
 * fc.assert parameters: the run count (FUZZ_RUNS overrides it, e.g. 5000 for a long local
 * run; FUZZ_SEED pins the seed) and a pollution check after every single run.
 */
export const runs = (n: number) => ({
  numRuns: Number(process.env.FUZZ_RUNS ?? n),
  ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
  plugins: [fc.afterEach(expectNoPollution)],
});

/** A plain object as JSON.parse makes them (prototype Object.prototype or null). */
export const isPlain = (v: unknown): v is Record<string, unknown> =>
  v !== null &&
  typeof v === 'object' &&
  [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null);

/**
 * Registers the guards every fuzz suite runs under: no unhandled rejection or uncaught
 * exception, and no prototype pollution, after each test.
 */
export function guardEachRun(): ReturnType<typeof trapUnhandled> {
  const trap = trapUnhandled();
  beforeAll(() => trap.install());
  afterAll(() => trap.uninstall());
  afterEach(() => {
    expect(trap.seen).toEqual([]);
    expectNoPollution();
  });
  return trap;
}

/** The option rules shared by the client's and the store's options. */
export const fnOrAbsent = (v: unknown) => v === undefined || typeof v === 'function';
export const objOrAbsent = (v: unknown) => v === undefined || v === null || isPlain(v);
/** Usually a valid value, sometimes anything: so that most generated option objects are accepted. */
export const mostly = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: other });
/** Settles a promise without ever leaving it unhandled; resolves to the rejection reason, or undefined. */
export const reason = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e ?? new Error('rejected with nothing'),
  );

/** A SyncwireError's code, or 'untyped …' for anything else thrown or rejected. */
export const classify = (e: unknown) =>
  e instanceof SyncwireError
    ? e.code
    : `untyped ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`;
/** 'ok', a SyncwireError code, or 'untyped …' for anything else thrown or rejected. */
export async function outcome(fn: () => unknown): Promise<string> {
  try {
    const r = fn();
    if (r && typeof (r as Promise<unknown>).then === 'function')
      return await (r as Promise<unknown>).then(() => 'ok', classify);
    return 'ok';
  } catch (e) {
    return classify(e);
  }
}
/** A client on a fake socket and a fake clock, not connected. */
export const offlineClient = (extra: Record<string, unknown> = {}) =>
  createNamespacedClient('/fuzz', {
    url: 'http://127.0.0.1:9',
    auth: {},
    clock: createFakeClock(),
    socketFactory: fakeSocketFactory(),
    ...extra,
  });
