import { fail, invalid, messageOf } from './errors';

/**
 * The wire contract, as Agent Zero ships it (see PROTOCOL.md):
 *
 * - client → server: `{ ts, data, correlationId }`
 * - server → client: envelope `{ handlerId, eventId, correlationId, ts, data }`
 * - request ack: `{ correlationId, results: [{ handlerId, ok, data? | error? }] }`
 */

/** What every server emit delivers to subscribers, validated and frozen. */
export interface ServerEnvelope<T extends object = Record<string, unknown>> {
  readonly handlerId: string;
  readonly eventId: string;
  readonly correlationId: string;
  /** ISO 8601 UTC with milliseconds, as sent by the server. */
  readonly ts: string;
  readonly data: Readonly<T>;
}

/** The error half of a result item. */
export interface ResultError {
  code: string;
  error: string;
  details?: unknown;
}

/** One handler's contribution to a request's ack, kept as the server sent it. */
export interface RequestResult<T = Record<string, unknown>> {
  handlerId: string;
  ok: boolean;
  data?: T;
  error?: ResultError;
  correlationId?: string;
  durationMs?: number;
}

/** What `client.request()` resolves with. */
export interface RequestResponse<T = Record<string, unknown>> {
  correlationId: string;
  results: RequestResult<T>[];
}

/** The payload the client puts on the wire. */
export interface ClientPayload {
  ts: string;
  data: Record<string, unknown>;
  correlationId: string;
}

/** The server's event-name rule (`validate_event_types`). */
export const EVENT_NAME = /^[a-z][a-z0-9_]*$/;

// Socket.IO uses these itself; a subscription to them would never fire as an event.
const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

/** @internal */
export const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** @internal describes a value for error messages: 'null', 'array', or typeof. */
export const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** @internal throws VALIDATION_ERROR unless `event` is a usable event name. */
export function assertEventName(event: unknown): asserts event is string {
  // Callers use a handful of names over and over: the last good one skips the regex.
  if (typeof event === 'string' && event === lastEventName) return;
  if (typeof event !== 'string' || !EVENT_NAME.test(event) || RESERVED.includes(event)) {
    // JSON.stringify only for strings: it throws on BigInt and cyclic values.
    throw invalid('event', `event name expects lowercase snake_case, not reserved, but got ${typeof event === 'string' ? JSON.stringify(event) : kindOf(event)}`);
  }
  lastEventName = event;
}
let lastEventName: string | undefined;

/**
 * Returns `prefix-<uuid v4>` (or a bare UUID without a prefix). UUIDs keep
 * their dashes everywhere, unlike the anchor server's fallback ids.
 */
export function createCorrelationId(prefix?: string): string {
  const c = globalThis.crypto;
  // randomUUID exists only in secure contexts; elsewhere fill the v4 template
  // (the version digit stays 4, the variant digit becomes 8-b).
  const id =
    typeof c?.randomUUID === 'function'
      ? c.randomUUID()
      : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (d) => {
          const random = typeof c?.getRandomValues === 'function' ? (c.getRandomValues(new Uint8Array(1))[0] ?? 0) : Math.random() * 256;
          return (Number(d) ^ (random & (15 >> (Number(d) / 4)))).toString(16);
        });
  if (prefix !== lastPrefix) {
    const p = typeof prefix === 'string' ? prefix.trim() : '';
    lastPrefix = prefix;
    lastPrefixText = p ? p.replace(/-?$/, '-') : '';
  }
  return lastPrefixText + id;
}
// Every request and emit names the same prefix: its trimmed, dash-ended form is kept, not rebuilt by a regex per call.
let lastPrefix: unknown;
let lastPrefixText = '';

/**
 * @internal An upper bound of the JSON size of `value` in UTF-8 bytes, or -1
 * once it passes `limit` (or the value is too deep or not plain JSON to tell).
 * It walks without building a string: cheaper than JSON.stringify, which is
 * then only needed for payloads that may be too large.
 */
function jsonBound(value: unknown, limit: number, depth = 0): number {
  if (value === null || typeof value === 'boolean' || value === undefined) return 5;
  if (typeof value === 'number') return 25;
  if (typeof value === 'string') return value.length * 6 + 2; // \uXXXX is the worst case per unit
  if (typeof value !== 'object' || depth > 20) return -1;
  if (Array.isArray(value)) return arrayBound(value, limit, depth);
  let total = 2;
  // for...in with an own-property check visits exactly what Object.entries would list
  // (own enumerable string keys), without allocating a [key, value] pair per property:
  // this runs on every request, and the pairs showed in round-trip times.
  for (const k in value) {
    if (!hasOwn(value, k)) continue;
    const n = jsonBound((value as Record<string, unknown>)[k], limit, depth + 1);
    if (n < 0 || (total += n + k.length * 6 + 4) > limit) return -1;
  }
  return total;
}

/**
 * jsonBound for an array, by index (for...in over elements builds a string per index).
 * It counts the entries Object.entries would list, bar other own properties: JSON.stringify
 * leaves those out, except an own enumerable toJSON, which it would call and which sends
 * the payload to the exact check, as before.
 */
function arrayBound(list: unknown[], limit: number, depth: number): number {
  if (Object.prototype.propertyIsEnumerable.call(list, 'toJSON')) return -1;
  let total = 2;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (v === undefined && !(i in list)) continue; // a hole, which Object.entries skips
    const n = jsonBound(v, limit, depth + 1);
    if (n < 0 || (total += n + String(i).length * 6 + 4) > limit) return -1;
  }
  return total;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

// Many calls fall in the same millisecond: its ISO string is built once.
let isoAt = NaN;
let iso = '';
function isoTime(now: number): string {
  if (now !== isoAt) {
    iso = new Date(now).toISOString();
    isoAt = now;
  }
  return iso;
}

/**
 * @internal Builds the wire payload and checks it fits in `maxBytes`, before
 * anything is sent. The size covers the whole `{ ts, data, correlationId }`.
 */
export function buildPayload(data: unknown, correlationId: unknown, maxBytes: number, now: number): ClientPayload {
  data ??= {};
  if (!isPlainObject(data)) throw invalid('data', `payload expects a plain object, but got ${kindOf(data)}`);
  const id = typeof correlationId === 'string' ? correlationId.trim() : '';
  if (!id) throw invalid('correlationId', 'correlationId expects a non-empty string');
  const payload: ClientPayload = { ts: isoTime(now), data, correlationId: id };
  // Small plain payloads (nearly all) are proven to fit without serialising them twice.
  if (jsonBound(payload, maxBytes) >= 0) return payload;
  let json: string;
  try {
    json = JSON.stringify(payload);
  } catch (e) {
    throw fail('VALIDATION_ERROR', `payload is not JSON-serialisable: ${messageOf(e)}`, { cause: e, details: { field: 'data' } });
  }
  // A UTF-16 unit never takes more than 3 UTF-8 bytes, so short payloads skip the encoder.
  const bytes = json.length * 3 > maxBytes ? new TextEncoder().encode(json).length : 0;
  if (bytes > maxBytes) throw fail('PAYLOAD_TOO_LARGE', `payload size exceeds maximum (${bytes} > ${maxBytes} bytes)`, { details: { bytes, maxBytes } });
  return payload;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * @internal `toISOString()`'s form with every field in range for any month (days up to
 * 28, hours up to 23): every engine's Date.parse accepts these. Date.parse costs ≈ 0.2–0.3 µs
 * per push, so it only judges the other strings (not matching is never an error by itself).
 */
export const CANONICAL_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

const badField = (field: string, expected: string, got: string) =>
  fail('INVALID_ENVELOPE', `server envelope field '${field}' expects ${expected}, but got ${got}`, { details: { field } });

function text(value: Record<string, unknown>, field: 'handlerId' | 'eventId' | 'correlationId' | 'ts'): string {
  const v = value[field];
  if (!nonEmpty(v)) throw badField(field, 'a non-empty string', kindOf(v));
  return v;
}

/**
 * Validates a server → client envelope and returns a frozen copy
 * `{ handlerId, eventId, correlationId, ts, data }` (`data: null` → `{}`; `data` is a
 * frozen shallow copy). Throws an `INVALID_ENVELOPE` {@link SyncwireError} naming the bad field.
 */
export function validateServerEnvelope<T extends object = Record<string, unknown>>(value: unknown): ServerEnvelope<T> {
  // Runs on every inbound event: no closures, one copy of each object.
  if (!isPlainObject(value)) throw badField('(envelope)', 'a plain object', kindOf(value));
  const ts = text(value, 'ts');
  const handlerId = text(value, 'handlerId');
  const eventId = text(value, 'eventId');
  const correlationId = text(value, 'correlationId');
  if (!CANONICAL_TIME.test(ts) && Number.isNaN(Date.parse(ts))) throw badField('ts', 'an ISO 8601 timestamp', JSON.stringify(ts.slice(0, 40)));
  const data = value.data ?? {};
  if (!isPlainObject(data)) throw badField('data', 'a plain object', kindOf(data));
  // Subscribers share one envelope: frozen, so none can change what the next one sees.
  return Object.freeze({ handlerId, eventId, correlationId, ts, data: Object.freeze(ownCopy(data)) as Readonly<T> });
}

/**
 * @internal A shallow copy of the own enumerable properties, as `{ ...data }` makes.
 * Not the spread itself: V8 gives every frozen spread copy a map of its own (≈ 0.3 µs and
 * 180 bytes per push, and every later read of it misses its inline cache). Object.assign
 * copies the same properties in the same order, but by assignment, which for an own
 * "__proto__" (JSON.parse makes one) would set the copy's prototype: that rare case
 * keeps the spread.
 */
function ownCopy(data: Record<string, unknown>): Record<string, unknown> {
  return hasOwn(data, '__proto__') ? { ...data } : Object.assign({}, data);
}

/**
 * @internal Checks an ack has the `{ correlationId, results[] }` shape and
 * returns it; a malformed ack is a protocol error, not an empty success.
 */
export function validateAck(value: unknown, sentCorrelationId: string): RequestResponse {
  const bad = (what: string) => fail('INVALID_ENVELOPE', `request ack ${what}`, { details: { ack: value } });
  if (!isPlainObject(value)) throw bad(`expects a plain object, but got ${kindOf(value)}`);
  const { results } = value;
  if (!Array.isArray(results)) throw bad(`field 'results' expects an array, but got ${kindOf(results)}`);
  results.forEach((item: unknown, i) => {
    if (!isPlainObject(item) || typeof item.ok !== 'boolean') throw bad(`results[${i}] expects an object with a boolean 'ok'`);
  });
  const correlationId = nonEmpty(value.correlationId) ? value.correlationId : sentCorrelationId;
  return { correlationId, results: results as RequestResult[] };
}
