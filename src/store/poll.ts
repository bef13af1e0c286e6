/**
 * The store's HTTP fallback: one POST of the state request to `/poll`, answered with a
 * whole snapshot. Used while the push channel is down (DEGRADED) and by the liveness audit.
 */
import type { NamespacedClient } from '../client/client';
import { fail, isSyncwireError, messageOf } from '../errors';
import { fetchOf, isPlainObject, kindOf, noop, type FetchLike } from '../util';

/** HTTP Forbidden: the CSRF token was refused (a restart rotated it). */
const HTTP_FORBIDDEN = 403;

/** @internal A poll's answer, and the server runtime that gave it (when the client knows it). */
export interface PollAnswer {
  snapshot: object;
  runtimeId: string | undefined;
}

/**
 * @internal Returns `poll(body)`: the server's snapshot for that request body, or a
 * `POLL_FAILED` rejection. `track` registers a cleanup that stop() runs (it aborts the
 * poll) and returns its remover; `confirmed` is called when the server answered with a
 * snapshot (the state is known current).
 */
export function createPoll(
  client: NamespacedClient,
  pollUrl: string,
  fetchImpl: FetchLike | undefined,
  timeoutMs: number,
  track: (cleanup: () => void) => () => void,
  confirmed: () => void,
): (body: object) => Promise<PollAnswer> {
  const { clock } = client;
  // An auth that answers without a csrf_token (a server that needs none) is asked once, not before every poll.
  let authAnswered = false;
  return async (body) => {
    const f = fetchOf(fetchImpl, 'POLL_FAILED', 'for polling');
    let cancelled = false;
    let runtimeId: string | undefined;
    let ctl: AbortController | undefined;
    let timer: unknown;
    const untrack = track(() => {
      cancelled = true;
      clock.clearTimeout(timer);
      ctl?.abort();
    });
    // Each step (a token refresh, a POST) gets a deadline of its own: a slow auth must not use
    // up the time of the POST that follows it, which would then never reach the server.
    const step = async <T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
      if (cancelled) throw fail('POLL_FAILED', 'the poll was cancelled');
      ctl = new AbortController();
      const abort = ctl;
      timer = clock.setTimeout(() => abort.abort(), timeoutMs);
      try {
        return await new Promise<T>((resolve, reject) => {
          const onAbort = () =>
            reject(
              fail(
                'POLL_FAILED',
                cancelled ? 'the poll was cancelled' : `${what}: no answer within ${timeoutMs} ms`,
              ),
            );
          abort.signal.addEventListener('abort', onAbort, { once: true });
          work(abort.signal)
            .then(resolve, reject)
            .finally(() => abort.signal.removeEventListener('abort', onAbort));
        });
      } finally {
        clock.clearTimeout(timer);
      }
    };
    const refresh = () =>
      step('auth refresh', async () => {
        await client.refreshAuth();
        authAnswered = true;
      });
    const post = () =>
      step(`POST ${pollUrl}`, async (signal) => {
        const token = client.csrfToken;
        // The runtime that accepted this token answers: the one the client knows as the POST goes out.
        runtimeId = client.runtimeId;
        // The token goes only to the server it came from.
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        if (token && new URL(pollUrl).origin === new URL(client.url, pollUrl).origin)
          headers['X-CSRF-Token'] = token;
        const res = await f(pollUrl, {
          method: 'POST',
          credentials: 'same-origin',
          headers,
          body: JSON.stringify(body),
          signal,
        });
        return {
          status: res.status,
          ok: res.ok,
          json: res.ok ? ((await res.json()) as unknown) : undefined,
        };
      });
    try {
      // No socket ever connected (WebSockets blocked): get a token before the first poll.
      if (!client.csrfToken && !authAnswered) await refresh().catch(noop);
      let res = await post();
      if (res.status === HTTP_FORBIDDEN) {
        // A restart rotated the token; fetch a fresh one and try once more.
        await refresh();
        res = await post();
      }
      if (!res.ok)
        throw fail('POLL_FAILED', `POST ${pollUrl} answered HTTP ${res.status}`, {
          status: res.status,
        });
      if (!isPlainObject(res.json))
        throw fail('POLL_FAILED', `poll answer: expected a JSON object, got ${kindOf(res.json)}`);
      confirmed();
      return { snapshot: res.json, runtimeId };
    } catch (e) {
      // Always POLL_FAILED (a network error, an abort, a failed token refresh); the cause is kept.
      if (isSyncwireError(e, 'POLL_FAILED')) throw e;
      throw fail(
        'POLL_FAILED',
        `POST ${pollUrl} failed: ${messageOf(e)}`,
        isSyncwireError(e) ? { code: e.code } : undefined,
        e,
      );
    } finally {
      untrack();
    }
  };
}
