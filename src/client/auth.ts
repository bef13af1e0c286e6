import type { Timers } from '../clock';
import { asError, fail, invalid } from '../errors';
import { isPlainObject, kindOf } from '../protocol';

/** Passed to an `auth` function on every connect attempt. */
export interface AuthContext {
  /** The namespace being connected. */
  namespace: string;
  /** True after the server rejected the last attempt: drop any cached credential. */
  refresh: boolean;
}

/** The `auth` option: a fixed object, or a (sync or async) function called on every connect attempt. */
export type AuthOption =
  | Record<string, unknown>
  | ((context: AuthContext) => Record<string, unknown> | Promise<Record<string, unknown>>);

/** @internal what the client learns from one auth call. */
export interface AuthResult {
  payload: Record<string, unknown>;
  runtimeId?: string;
}

/** @internal `cancel` ends work in flight (the client calls it on dispose). */
export type AuthProvider = ((context: AuthContext) => Promise<AuthResult>) & {
  cancel?: () => void;
};

/** @internal */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** @internal The given fetch, else the global one, else a typed rejection with `code`. */
export const fetchOf = (
  given: FetchLike | undefined,
  code: Parameters<typeof fail>[0],
  what: string,
): FetchLike =>
  given ??
  (typeof fetch == 'function'
    ? fetch
    : () => Promise.reject(fail(code, `no fetch available ${what}`)));

/**
 * @internal The seed runtime's default: `GET <tokenUrl>` (`/csrf_token`, or `/api/csrf_token`
 * in later Agent Zero builds) → `{ ok, token, runtime_id }`,
 * sent as `{ csrf_token }`. The token is cached and refetched only when the
 * server rejected the last attempt (a restart rotates it).
 */
export function csrfTokenAuth(
  tokenUrl: string,
  baseUrl: string,
  fetchImpl: FetchLike | undefined,
  timers: Timers,
  timeoutMs: number,
): AuthProvider {
  const route = new URL(tokenUrl).pathname;
  const aborts = new Set<AbortController>();

  const load = async (): Promise<AuthResult> => {
    const abort = new AbortController();
    aborts.add(abort);
    timers.set(abort, timeoutMs, () => abort.abort());
    try {
      const res = await fetchOf(
        fetchImpl,
        'CONNECT_ERROR',
        `to get ${route}; pass the fetch or auth option`,
      )(tokenUrl, { credentials: 'same-origin', signal: abort.signal });
      if (!res.ok)
        throw fail(
          'CONNECT_ERROR',
          `GET ${tokenUrl} answered HTTP ${res.status}${res.status == 404 ? " (an Agent Zero build with its API under /api/ needs csrfTokenUrl: '/api/csrf_token')" : ''}`,
          { status: res.status },
        );
      const body = (await res.json()) as unknown;
      if (!isPlainObject(body) || body.ok === false || typeof body.token != 'string') {
        throw fail(
          'CONNECT_ERROR',
          `GET ${tokenUrl} did not return { ok: true, token }`,
          isPlainObject(body) ? { error: body.error } : undefined,
        );
      }
      const runtimeId = typeof body.runtime_id == 'string' ? body.runtime_id : undefined;
      setCsrfCookie(baseUrl, body.token, runtimeId);
      return { payload: { csrf_token: body.token }, runtimeId };
    } catch (e) {
      throw asError(e, 'CONNECT_ERROR', `GET ${tokenUrl} failed: `);
    } finally {
      timers.clear(abort);
      aborts.delete(abort);
    }
  };

  // The last good answer, or the fetch under way. Concurrent attempts (several namespaces,
  // a retry racing a reconnect) share one fetch; a failed one is forgotten, so the next
  // attempt fetches again.
  let token: Promise<AuthResult> | undefined;
  let loading = false;
  const provider: AuthProvider = ({ refresh }) => {
    if (!loading && (refresh || !token)) {
      loading = true;
      const p = (token = load().finally(() => (loading = false)));
      p.catch(() => token === p && (token = undefined));
    }
    return token as Promise<AuthResult>;
  };
  provider.cancel = () => aborts.forEach((a) => a.abort());
  return provider;
}

/**
 * Agent Zero checks a `csrf_token_<runtime_id>` cookie beside the auth token,
 * and expects page JavaScript (not the server) to set it. Only for the page's
 * own origin: a token never goes to a cookie another site can read.
 */
function setCsrfCookie(baseUrl: string, token: string, runtimeId: string | undefined): void {
  if (!runtimeId || typeof document == 'undefined' || typeof location == 'undefined') return;
  if (baseUrl && new URL(baseUrl, location.href).origin !== location.origin) return;
  document.cookie = `csrf_token_${runtimeId}=${encodeURIComponent(token)}; Path=/; SameSite=Lax${location.protocol == 'https:' ? '; Secure' : ''}`;
}

/** @internal wraps the user's `auth` option into a provider. */
export const userAuth =
  (option: AuthOption): AuthProvider =>
  async (context) => {
    const payload = typeof option == 'function' ? await option(context) : option;
    if (!isPlainObject(payload)) throw invalid('auth', 'to give a plain object', kindOf(payload));
    return { payload };
  };
