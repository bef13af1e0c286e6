/**
 * @internal Small helpers shared by the client, the store and the protocol checks. They live
 * apart from any one of them so that none imports another just for a type test.
 */
import { fail, type SyncwireErrorCode } from './errors';

/** @internal The fetch signature syncwire calls (the default auth, the store's polling). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** @internal Does nothing: a listener or rejection handler that only has to exist. */
export const noop = (): void => {};

/** @internal True for `undefined` and `null`, the two ways an option can be absent. */
export const isNullish = (v: unknown): v is null | undefined => v === undefined || v === null;

/**
 * @internal True for `{}`-style objects (prototype Object.prototype or null): only these are
 * read key by key, so a class instance, a Map or an array never passes for options or data.
 */
export const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** @internal `o` has `k` as its own key (not one inherited, such as `toString`). */
export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** @internal Describes a value for error messages: 'null', 'array', or its typeof. */
export const kindOf = (v: unknown): string => {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
};

/**
 * @internal The given fetch, else the global one, else a fetch that rejects with a typed error
 * `code` (a Node or worker host without fetch then learns why, when it first needs one).
 */
export const fetchOf = (
  given: FetchLike | undefined,
  code: SyncwireErrorCode,
  what: string,
): FetchLike => {
  if (!isNullish(given)) return given;
  if (typeof fetch === 'function') return fetch;
  return () => Promise.reject(fail(code, `no fetch available ${what}`));
};
