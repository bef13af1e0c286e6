/**
 * Stable error codes. Callers branch on `code`, never on message text.
 *
 * The first group mirrors the seed guide's client-side registry; the rest are
 * syncwire's own, for failures the seed client reported only as strings or not
 * at all.
 */
export type SyncwireErrorCode =
  | 'VALIDATION_ERROR'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_CONNECTED'
  | 'CONNECT_ERROR'
  | 'UNKNOWN_NAMESPACE'
  | 'TIMEOUT'
  | 'DISCONNECTED'
  | 'INVALID_ENVELOPE'
  | 'HANDLER_ERROR'
  | 'DISPOSED'
  | 'STREAM_ERROR'
  | 'HANDSHAKE_FAILED'
  | 'POLL_FAILED'
  | 'REDUCE_ERROR'
  | 'STORAGE_ERROR'
  | 'OVERFLOW'
  | 'ABORTED';

/**
 * The one error class syncwire throws or rejects with.
 *
 * @example
 * ```ts
 * try { await client.request('echo', {}) }
 * catch (e) { if (e instanceof SyncwireError && e.code === 'TIMEOUT') retryLater() }
 * ```
 */
export class SyncwireError extends Error {
  /** Machine-readable reason; see {@link SyncwireErrorCode}. */
  readonly code: SyncwireErrorCode;
  /** Extra machine-readable context (a field name, the server's error item, ...). */
  readonly details?: unknown;

  constructor(code: SyncwireErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message);
    this.name = 'SyncwireError';
    this.code = code;
    // `details` and `cause`, when given. `cause` is assigned by hand: the ES2022
    // constructor option is not in our ES2020 target lib.
    Object.assign(this, options);
  }
}

/** True when `value` is a {@link SyncwireError}, optionally with the given code. */
export function isSyncwireError(value: unknown, code?: SyncwireErrorCode): value is SyncwireError {
  return value instanceof SyncwireError && (code === undefined || value.code === code);
}

/** @internal shorthand used across modules to keep call sites short. */
export const fail = (code: SyncwireErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) =>
  new SyncwireError(code, message, options);

/** @internal a VALIDATION_ERROR naming the bad field in `details.field`. */
export const invalid = (field: string, message: string) => fail('VALIDATION_ERROR', message, { details: { field } });

/**
 * @internal message of anything thrown, without trusting its shape: String()
 * itself throws for `{ toString: {} }` (valid JSON) or a null-prototype object.
 */
export const messageOf = (e: unknown): string => {
  try {
    return e instanceof Error ? String(e.message) : String(e);
  } catch {
    return Object.prototype.toString.call(e);
  }
};
