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
  declare readonly code: SyncwireErrorCode;
  /** Extra machine-readable context (a field name, the server's error item, ...). */
  declare readonly details?: unknown;

  constructor(
    code: SyncwireErrorCode,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message);
    this.name = 'SyncwireError';
    // `details` and `cause` only when given: an absent one stays absent (`'cause' in e` is false).
    // `cause` is assigned by hand: the ES2022 constructor option is not in our ES2020 target lib.
    Object.assign(
      this,
      { code },
      options?.details !== undefined && { details: options.details },
      options?.cause !== undefined && { cause: options.cause },
    );
  }
}

/** True when `value` is a {@link SyncwireError}, optionally with the given code. */
export const isSyncwireError = (value: unknown, code?: SyncwireErrorCode): value is SyncwireError =>
  value instanceof SyncwireError && (code === undefined || value.code === code);

/**
 * @internal shorthand used across modules to keep call sites short: `fail(code, message, details?, cause?)`.
 * Only syncwire's own codes: a server's code travels in `details` (e.g. `details.serverCode`
 * of a `HANDSHAKE_FAILED`), so every failure keeps a code of the documented list.
 */
export const fail = (
  code: SyncwireErrorCode,
  message: string,
  details?: unknown,
  cause?: unknown,
) => new SyncwireError(code, message, { details, cause });

/** @internal a VALIDATION_ERROR naming the bad field in `details.field`: "field: expected what, got got". */
export const invalid = (field: string, what: string, got?: string | number) =>
  fail('VALIDATION_ERROR', `${field}: expected ${what}${got === undefined ? '' : `, got ${got}`}`, {
    field,
  });

/** @internal `e` when it is a SyncwireError, otherwise one with `code` and the thrown value's message. */
export const asError = (e: unknown, code: SyncwireErrorCode, prefix = ''): SyncwireError =>
  e instanceof SyncwireError ? e : fail(code, prefix + messageOf(e), undefined, e);

/**
 * @internal message of anything thrown, without trusting its shape: String()
 * itself throws for `{ toString: {} }` (valid JSON) or a null-prototype object.
 */
export const messageOf = (e: unknown): string => {
  try {
    return String(e instanceof Error ? e.message : e);
  } catch {
    return Object.prototype.toString.call(e);
  }
};

/** @internal the code of a SyncwireError, else `fallback`. */
export const codeOf = (e: unknown, fallback: SyncwireErrorCode): SyncwireErrorCode =>
  e instanceof SyncwireError ? e.code : fallback;
