import { fail, invalid, messageOf } from './errors';
import { hasOwn, isNullish, isPlainObject, kindOf } from './util';

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

// Socket.IO's own events (those EVENT_NAME lets through): a subscription to them would never fire.
const RESERVED = /^(connect(_error)?|disconnect(ing)?)$/;

/** @internal throws VALIDATION_ERROR unless `event` is a usable event name. */
export function assertEventName(event: unknown): asserts event is string {
  if (typeof event !== 'string' || !EVENT_NAME.test(event) || RESERVED.test(event)) {
    // JSON.stringify only for strings: it throws on BigInt and cyclic values.
    throw invalid(
      'event',
      'a snake_case event name, not reserved',
      typeof event === 'string' ? JSON.stringify(event) : kindOf(event),
    );
  }
}

/**
 * Returns `prefix-<uuid v4>` (or a bare UUID without a prefix). UUIDs keep
 * their dashes everywhere, unlike the anchor server's fallback ids.
 */
export function createCorrelationId(prefix?: string): string {
  const trimmed = typeof prefix === 'string' ? prefix.trim() : '';
  let head = '';
  if (trimmed !== '') head = trimmed.endsWith('-') ? trimmed : `${trimmed}-`;
  // randomUUID exists only in secure contexts (an http page on a LAN address has none).
  const uuid = globalThis.crypto.randomUUID ? globalThis.crypto.randomUUID() : uuidV4Fallback();
  return head + uuid;
}

/**
 * A v4 UUID from getRandomValues, which exists in every context: each template digit is
 * XORed with random bits (all four for `0` and `1`, the low two for `8`), so the version
 * digit stays 4 and the variant digit becomes 8-b, as RFC 4122 wants.
 */
function uuidV4Fallback(): string {
  const template = '10000000-1000-4000-8000-100000000000';
  return template.replace(/[018]/g, (digit) => {
    const value = Number(digit);
    const randomByte = globalThis.crypto.getRandomValues(new Uint8Array(1))[0] as number;
    const randomBits = randomByte & (15 >> (value / 4));
    return (value ^ randomBits).toString(16);
  });
}

let isoAt = NaN;
let iso = '';

/** `\uXXXX`: the most UTF-8 bytes JSON writes for one UTF-16 unit. */
const ESCAPED_UNIT_BYTES = 6;
/** More than the longest number (`-1.7976931348623157e+308`), boolean or null in JSON. */
const SCALAR_BYTES = 25;
/** Deeper nesting is left to JSON.stringify, which also tells a cycle. */
const MAX_BOUND_DEPTH = 20;

/**
 * An upper bound of `v`'s JSON size in UTF-8 bytes (`\uXXXX` is the worst case per
 * UTF-16 unit), or Infinity where only JSON.stringify can tell: a toJSON, objects that
 * are neither plain nor arrays (a Date or class instance with its inherited toJSON, boxed
 * values, Maps), BigInt, functions (an own toJSON among them), symbols, deep or cyclic
 * nesting. It walks without building anything: this runs for every request, and a second
 * serialisation showed in round trips.
 */
function jsonBound(v: unknown, depth: number): number {
  // A string: every unit escaped, and its two quotes.
  if (typeof v === 'string') return v.length * ESCAPED_UNIT_BYTES + 2;
  if (isNullish(v) || typeof v === 'number' || typeof v === 'boolean') return SCALAR_BYTES;
  if (typeof v !== 'object' || depth > MAX_BOUND_DEPTH) return Infinity;
  let n = 2; // the brackets
  if (Array.isArray(v)) {
    // By index: JSON writes holes as null and leaves other properties out, but not a toJSON (own, or a subclass's).
    if ('toJSON' in v) return Infinity;
    // Each item: its comma, with room to spare.
    for (let i = 0; i < v.length; i++) n += 5 + jsonBound(v[i], depth + 1);
  } else if (!isPlainObject(v)) return Infinity;
  else {
    // Each entry: its key (escaped), the key's quotes, the colon and the comma.
    for (const k in v) {
      if (hasOwn(v, k)) n += k.length * ESCAPED_UNIT_BYTES + 4 + jsonBound(v[k], depth + 1);
    }
  }
  return n;
}

/**
 * @internal Builds the wire payload and checks it fits in `maxBytes`, before
 * anything is sent. The size covers the whole `{ ts, data, correlationId }`.
 */
export function buildPayload(
  data: unknown,
  correlationId: unknown,
  maxBytes: number,
  now: number,
): ClientPayload {
  data ??= {};
  if (!isPlainObject(data)) throw invalid('data', 'a plain object', kindOf(data));
  const id = typeof correlationId === 'string' && correlationId.trim();
  if (!id) throw invalid('correlationId', 'a non-empty string');
  // Calls in the same millisecond share one ISO string.
  if (now !== isoAt) {
    isoAt = now;
    iso = new Date(now).toISOString();
  }
  const payload: ClientPayload = { ts: iso, data, correlationId: id };
  let bytes = 0;
  try {
    // Small plain payloads (nearly all) are proven to fit without serialising them twice
    // (Socket.IO serialises them anyway). A UTF-16 unit never takes more than 3 UTF-8
    // bytes, so short ones skip the encoder too.
    if (jsonBound(payload, 0) > maxBytes) {
      // Socket.IO sends binary (ArrayBuffer, typed arrays, Blob) as attachments of its own
      // size, not as JSON, which writes `{}` for an ArrayBuffer and a key per byte for a view.
      let binary = 0;
      const json = JSON.stringify(payload, (_, v: unknown) => {
        if (!(v instanceof ArrayBuffer || ArrayBuffer.isView(v) || v instanceof Blob)) return v;
        binary += (v as ArrayBuffer).byteLength ?? (v as Blob).size;
        return 0;
      });
      if (json.length * 3 + binary > maxBytes)
        bytes = new TextEncoder().encode(json).length + binary;
    }
  } catch (e) {
    throw fail('VALIDATION_ERROR', `data: not JSON (${messageOf(e)})`, { field: 'data' }, e);
  }
  if (bytes > maxBytes)
    throw fail(
      'PAYLOAD_TOO_LARGE',
      `payload of ${bytes} bytes is over maxPayloadBytes (${maxBytes})`,
      { bytes, maxBytes },
    );
  return payload;
}

/**
 * @internal `toISOString()`'s form with every field in range for any month (days up to
 * 28, hours up to 23): every engine's Date.parse accepts these. Date.parse costs ≈ 0.2–0.3 µs
 * per push, so it only judges the other strings (not matching is never an error by itself).
 */
export const CANONICAL_TIME =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

const badField = (field: string, expected: string, got: string) =>
  fail('INVALID_ENVELOPE', `envelope field '${field}': expected ${expected}, got ${got}`, {
    field,
  });
const text = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || !v) throw badField(field, 'a non-empty string', kindOf(v));
  return v;
};

/** @internal A server envelope as sent, once {@link assertServerEnvelope} passed it. */
export interface SentServerEnvelope {
  handlerId: string;
  eventId: string;
  correlationId: string;
  ts: string;
  /** A plain object, or null/undefined (read as `{}`). */
  data?: Record<string, unknown> | null;
}

/**
 * @internal The checks of {@link validateServerEnvelope}, without its copy: throws the same
 * `INVALID_ENVELOPE` error naming the bad field. For a reader that takes the data apart
 * itself in the same pass (the store's `state_push` reader), and so never shows the envelope.
 */
export function assertServerEnvelope(value: unknown): asserts value is SentServerEnvelope {
  if (!isPlainObject(value)) throw badField('(envelope)', 'a plain object', kindOf(value));
  // Field by field, not in a loop over names: this runs for every inbound event, and named
  // reads stay fast where a keyed read in a loop does not.
  const ts = text(value.ts, 'ts');
  text(value.handlerId, 'handlerId');
  text(value.eventId, 'eventId');
  text(value.correlationId, 'correlationId');
  // A burst of pushes stamped in the same millisecond shares one timestamp: checked once.
  if (ts !== lastGoodTs) {
    if (!CANONICAL_TIME.test(ts) && Number.isNaN(Date.parse(ts)))
      throw badField('ts', 'an ISO 8601 timestamp', JSON.stringify(ts.slice(0, 40)));
    lastGoodTs = ts;
  }
  const data = value.data ?? {};
  if (!isPlainObject(data)) throw badField('data', 'a plain object', kindOf(data));
}

/** The last timestamp that passed the check (one entry: a burst repeats the same one). */
let lastGoodTs = '';

/**
 * Validates a server → client envelope and returns a frozen copy
 * `{ handlerId, eventId, correlationId, ts, data }` (`data: null` → `{}`; `data` is a
 * frozen shallow copy). Throws an `INVALID_ENVELOPE` {@link SyncwireError} naming the bad field.
 */
export function validateServerEnvelope<T extends object = Record<string, unknown>>(
  value: unknown,
): ServerEnvelope<T> {
  assertServerEnvelope(value);
  const { handlerId, eventId, correlationId, ts } = value;
  const data = value.data ?? {};
  // Subscribers share one envelope: frozen, so none can change what the next one sees.
  // Object.assign, not a spread: V8 gives every frozen spread copy a map of its own (slower
  // reads, more memory per push). Assigning an own "__proto__" (JSON.parse makes one) would
  // set the copy's prototype, so that rare case keeps the spread.
  return Object.freeze({
    handlerId,
    eventId,
    correlationId,
    ts,
    data: Object.freeze(
      hasOwn(data, '__proto__') ? { ...data } : Object.assign({}, data),
    ) as Readonly<T>,
  });
}

/**
 * @internal Checks an ack has the `{ correlationId, results[] }` shape and
 * returns it; a malformed ack is a protocol error, not an empty success.
 */
export function validateAck(value: unknown, sentCorrelationId: string): RequestResponse {
  const results = isPlainObject(value) ? value.results : undefined;
  if (!Array.isArray(results)) {
    throw fail(
      'INVALID_ENVELOPE',
      `request ack: expected { results: [{ ok }] }, got ${kindOf(value)}`,
      {
        ack: value,
      },
    );
  }
  const bad = results.findIndex((r: unknown) => !isPlainObject(r) || typeof r.ok !== 'boolean');
  if (bad !== -1) {
    const got = `results[${bad}] = ${kindOf(results[bad])}`;
    throw fail('INVALID_ENVELOPE', `request ack: expected { results: [{ ok }] }, got ${got}`, {
      ack: value,
    });
  }
  const cid = (value as Record<string, unknown>).correlationId;
  return {
    correlationId: typeof cid === 'string' && cid ? cid : sentCorrelationId,
    results: results as RequestResult[],
  };
}
