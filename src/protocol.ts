import { fail, messageOf } from './errors';

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
  if (typeof event !== 'string' || !EVENT_NAME.test(event) || RESERVED.includes(event)) {
    throw fail('VALIDATION_ERROR', `event name expects lowercase snake_case (${String(EVENT_NAME)}), not reserved, but got ${JSON.stringify(event)}`, {
      details: { field: 'event' },
    });
  }
}

/**
 * Returns `prefix-<uuid v4>` (or a bare UUID without a prefix). UUIDs keep
 * their dashes everywhere, unlike the anchor server's fallback ids.
 */
export function createCorrelationId(prefix?: string): string {
  const c = globalThis.crypto;
  let id: string;
  if (c && typeof c.randomUUID === 'function') id = c.randomUUID();
  else {
    const b = new Uint8Array(16);
    if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
    b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  const p = typeof prefix === 'string' ? prefix.trim() : '';
  return p ? (p.endsWith('-') ? p : p + '-') + id : id;
}

/**
 * @internal Builds the wire payload and checks it fits in `maxBytes`, before
 * anything is sent. The size covers the whole `{ ts, data, correlationId }`.
 */
export function buildPayload(data: unknown, correlationId: unknown, maxBytes: number, now: number): ClientPayload {
  if (data === null || data === undefined) data = {};
  if (!isPlainObject(data)) {
    throw fail('VALIDATION_ERROR', `payload expects a plain object, but got ${kindOf(data)}`, { details: { field: 'data' } });
  }
  if (typeof correlationId !== 'string' || !correlationId.trim()) {
    throw fail('VALIDATION_ERROR', 'correlationId expects a non-empty string', { details: { field: 'correlationId' } });
  }
  const payload: ClientPayload = { ts: new Date(now).toISOString(), data, correlationId: correlationId.trim() };
  let json: string;
  try {
    json = JSON.stringify(payload);
  } catch (e) {
    throw fail('VALIDATION_ERROR', `payload is not JSON-serialisable: ${messageOf(e)}`, { cause: e, details: { field: 'data' } });
  }
  // A UTF-16 unit never takes more than 3 UTF-8 bytes, so short payloads skip the encoder.
  if (json.length * 3 > maxBytes) {
    const bytes = new TextEncoder().encode(json).length;
    if (bytes > maxBytes) {
      throw fail('PAYLOAD_TOO_LARGE', `payload size exceeds maximum (${bytes} > ${maxBytes} bytes)`, { details: { bytes, maxBytes } });
    }
  }
  return payload;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Validates a server → client envelope and returns a frozen copy
 * `{ handlerId, eventId, correlationId, ts, data }` (`data: null` → `{}`).
 * Throws an `INVALID_ENVELOPE` {@link SyncwireError} naming the bad field.
 */
export function validateServerEnvelope<T extends object = Record<string, unknown>>(value: unknown): ServerEnvelope<T> {
  const bad = (field: string, expected: string, got: unknown) =>
    fail('INVALID_ENVELOPE', `server envelope field '${field}' expects ${expected}, but got ${kindOf(got)}`, { details: { field } });
  if (!isPlainObject(value)) throw bad('(envelope)', 'a plain object', value);
  const { handlerId, eventId, correlationId, ts } = value;
  let data = value.data;
  if (!nonEmpty(handlerId)) throw bad('handlerId', 'a non-empty string', handlerId);
  if (!nonEmpty(eventId)) throw bad('eventId', 'a non-empty string', eventId);
  if (!nonEmpty(correlationId)) throw bad('correlationId', 'a non-empty string', correlationId);
  if (!nonEmpty(ts)) throw bad('ts', 'an ISO 8601 timestamp string', ts);
  if (Number.isNaN(Date.parse(ts))) {
    throw fail('INVALID_ENVELOPE', `server envelope field 'ts' is not a valid timestamp: ${JSON.stringify(ts.slice(0, 40))}`, { details: { field: 'ts' } });
  }
  if (data === null || data === undefined) data = {};
  if (!isPlainObject(data)) throw bad('data', 'a plain object', data);
  return Object.freeze({ handlerId, eventId, correlationId, ts, data: Object.freeze({ ...data }) as Readonly<T> });
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
