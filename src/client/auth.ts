import type { TimerGroup } from '../clock';
import { SyncwireError, fail, messageOf } from '../errors';
import { isPlainObject } from '../protocol';

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
export type AuthProvider = ((context: AuthContext) => Promise<AuthResult>) & { cancel?: () => void };

/** @internal */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * @internal The seed runtime's default: `GET /csrf_token` → `{ ok, token, runtime_id }`,
 * sent as `{ csrf_token }`. The token is cached and refetched only when the
 * server rejected the last attempt (a restart rotates it).
 */
export function csrfTokenAuth(baseUrl: string, fetchImpl: FetchLike | undefined, timers: TimerGroup, timeoutMs: number): AuthProvider {
  let cached: { token: string; runtimeId?: string } | undefined;
  let inflight: Promise<{ token: string; runtimeId?: string }> | undefined;
  const aborts = new Set<AbortController>();

  const load = async () => {
    const f = fetchImpl ?? (typeof fetch === 'function' ? fetch : undefined);
    if (!f) throw fail('CONNECT_ERROR', 'no fetch available to get /csrf_token; pass the auth option');
    const abort = new AbortController();
    aborts.add(abort);
    const cancel = timers.set(() => abort.abort(), timeoutMs);
    try {
      const res = await f(baseUrl + '/csrf_token', { credentials: 'same-origin', signal: abort.signal });
      if (!res.ok) throw fail('CONNECT_ERROR', `GET /csrf_token answered HTTP ${res.status}`);
      const body = (await res.json()) as unknown;
      if (!isPlainObject(body) || body.ok === false || typeof body.token !== 'string') {
        throw fail('CONNECT_ERROR', 'GET /csrf_token did not return { ok: true, token }', {
          details: isPlainObject(body) ? { error: body.error } : undefined,
        });
      }
      const runtimeId = typeof body.runtime_id === 'string' ? body.runtime_id : undefined;
      setCsrfCookie(baseUrl, body.token, runtimeId);
      return { token: body.token, runtimeId };
    } catch (e) {
      throw e instanceof SyncwireError ? e : fail('CONNECT_ERROR', `GET /csrf_token failed: ${messageOf(e)}`, { cause: e });
    } finally {
      cancel();
      aborts.delete(abort);
    }
  };

  const provider: AuthProvider = async ({ refresh }) => {
    if (refresh) cached = undefined;
    if (!cached) {
      // Concurrent attempts (several namespaces, a retry racing a reconnect) share one fetch.
      inflight ??= load().finally(() => (inflight = undefined));
      cached = await inflight;
    }
    return { payload: { csrf_token: cached.token }, runtimeId: cached.runtimeId };
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
  if (!runtimeId || typeof document === 'undefined' || typeof location === 'undefined') return;
  if (baseUrl && new URL(baseUrl, location.href).origin !== location.origin) return;
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `csrf_token_${runtimeId}=${encodeURIComponent(token)}; Path=/; SameSite=Lax${secure}`;
}

/** @internal wraps the user's `auth` option into a provider. */
export function userAuth(option: AuthOption): AuthProvider {
  return async (context) => {
    const payload = typeof option === 'function' ? await option(context) : option;
    if (!isPlainObject(payload)) throw fail('VALIDATION_ERROR', 'auth must produce a plain object', { details: { field: 'auth' } });
    return { payload };
  };
}
