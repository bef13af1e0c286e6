/**
 * Error helpers over {@link SyncwireError}, which lives in error-class.ts: an add-on build
 * (syncwire/tabs) takes that module from the core entry, so a page has one error class, and
 * copies only these helpers.
 */
import { SyncwireError, type SyncwireErrorCode } from './error-class';

export { SyncwireError, isSyncwireError, type SyncwireErrorCode } from './error-class';

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
