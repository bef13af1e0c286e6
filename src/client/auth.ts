import type { Timers } from '../clock';
import { asError, fail, invalid } from '../errors';
import { fetchOf, isNullish, isPlainObject, kindOf, noop, type FetchLike } from '../util';
import type { ResolvedOptions } from './options';

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
          `GET ${tokenUrl} answered HTTP ${res.status}${res.status === 404 ? " (an Agent Zero build with its API under /api/ needs csrfTokenUrl: '/api/csrf_token')" : ''}`,
          { status: res.status },
        );
      const body = (await res.json()) as unknown;
      if (!isPlainObject(body) || body.ok === false || typeof body.token !== 'string') {
        throw fail(
          'CONNECT_ERROR',
          `GET ${tokenUrl} did not return { ok: true, token }`,
          isPlainObject(body) ? { error: body.error } : undefined,
        );
      }
      const runtimeId = typeof body.runtime_id === 'string' ? body.runtime_id : undefined;
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
      const p = load().finally(() => {
        loading = false;
      });
      token = p;
      p.catch(() => {
        if (token === p) token = undefined;
      });
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
  if (!runtimeId || typeof document === 'undefined' || typeof location === 'undefined') return;
  if (baseUrl && new URL(baseUrl, location.href).origin !== location.origin) return;
  document.cookie = `csrf_token_${runtimeId}=${encodeURIComponent(token)}; Path=/; SameSite=Lax${location.protocol === 'https:' ? '; Secure' : ''}`;
}

/** @internal wraps the user's `auth` option into a provider. */
export const userAuth =
  (option: AuthOption): AuthProvider =>
  async (context) => {
    const payload = typeof option === 'function' ? await option(context) : option;
    if (!isPlainObject(payload)) throw invalid('auth', 'to give a plain object', kindOf(payload));
    return { payload };
  };

/** The name of the timer that bounds an auth call made before the socket opens. */
const PREFETCH_TIMER = 'auth prefetch';

/** @internal A client's credentials: its auth provider, and what its answers taught it. */
export interface Credentials {
  /** The CSRF token of the latest answer, when it had one (for HTTP fallbacks). */
  readonly csrfToken: string | undefined;
  /** Asks the provider; `refresh` drops cached credentials (default: see {@link refreshNext}). */
  load(refresh?: boolean): Promise<Record<string, unknown>>;
  /** The next load() asks with `refresh: true`: the server rejected the last credentials. */
  refreshNext(): void;
  /** Socket.IO's `auth` option: called on every connect attempt, reconnects included. */
  callback(cb: (data: object) => void): void;
  /**
   * Asks the provider before the socket opens; `then` runs once, when the answer came (kept
   * for the attempt's {@link callback}) or the auth deadline passed.
   */
  prefetch(then: () => void): void;
  /** True while a {@link prefetch} waits for its answer. */
  prefetching(): boolean;
  /** Ends work in flight (the client is disposed). */
  cancel(): void;
}

/**
 * @internal Creates the credentials of one client: the default auth (GET the CSRF token) or
 * the user's. `learnRuntimeId` hears every answer's runtime id.
 */
export function createCredentials(
  opts: ResolvedOptions,
  timers: Timers,
  reportError: (e: unknown) => void,
  learnRuntimeId: (id: string) => void,
  isDisposed: () => boolean,
): Credentials {
  const { ns: namespace, authTimeoutMs: timeoutMs } = opts;
  const provider = isNullish(opts.auth)
    ? csrfTokenAuth(opts.tokenUrl, opts.url, opts.fetch, timers, timeoutMs)
    : userAuth(opts.auth);
  let refreshNext = false;
  let csrfToken: string | undefined;
  // Credentials fetched before the socket opened, for that attempt's auth callback.
  let prefetched: Record<string, unknown> | undefined;

  // The next call drops cached credentials when the server rejected the last attempt.
  const load = (refresh = refreshNext) => {
    refreshNext = false;
    return provider({ namespace, refresh }).then((r) => {
      if (r.runtimeId) learnRuntimeId(r.runtimeId);
      if (typeof r.payload.csrf_token === 'string') csrfToken = r.payload.csrf_token;
      return r.payload;
    });
  };

  return {
    get csrfToken() {
      return csrfToken;
    },
    load,
    refreshNext() {
      refreshNext = true;
    },

    // Going on without credentials lets a server that needs none accept us, and one that
    // does reject us, which schedules a retry with fresh credentials.
    callback(cb) {
      const finish = (payload: object, err?: unknown) => {
        if (!timers.clear(cb) || isDisposed()) return;
        if (err) reportError(asError(err, 'CONNECT_ERROR', 'auth failed: '));
        cb(payload);
      };
      // The attempt's own deadline, named by its callback.
      timers.set(cb, timeoutMs, () => {
        reportError(fail('CONNECT_ERROR', `auth took longer than ${timeoutMs} ms`));
        cb({});
      });
      const ready = prefetched;
      prefetched = undefined;
      (ready ? Promise.resolve(ready) : load()).then(finish, (e: unknown) => finish({}, e));
    },

    prefetch(then) {
      prefetched = undefined;
      let done = false;
      const go = () => {
        if (done) return;
        done = true;
        timers.clear(PREFETCH_TIMER);
        then();
      };
      // An auth that does not answer in time holds no attempt back: the attempt's auth
      // callback asks again (with the same deadline), and reports.
      timers.set(PREFETCH_TIMER, timeoutMs, go);
      void load()
        .then((payload) => {
          if (!done) prefetched = payload;
        }, noop) // on failure the auth callback tries again and reports
        .then(go);
    },
    prefetching: () => timers.has(PREFETCH_TIMER),
    cancel() {
      provider.cancel?.();
    },
  };
}
