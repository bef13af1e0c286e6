/*
 * syncwire's error class and its codes: the one module whose identity matters (`instanceof`),
 * so every add-on build takes it from the core entry instead of bundling a copy.
 */

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
