/**
 * The store's HTTP fallback: one POST of the state request to `/poll`, answered with a
 * whole snapshot. Used while the push channel is down (DEGRADED) and by the liveness audit.
 */
import type { NamespacedClient } from '../client/client';
import { fetchOf, type FetchLike } from '../client/auth';
import { asError, fail } from '../errors';
import { noop } from '../listeners';
import { isPlainObject, kindOf } from '../protocol';

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
): (body: object) => Promise<object> {
  const { clock } = client;
  return async (body) => {
    const f = fetchOf(fetchImpl, 'POLL_FAILED', 'for polling');
    const ctl = new AbortController();
    const timer = clock.setTimeout(() => ctl.abort(), timeoutMs);
    const cleanup = () => {
      clock.clearTimeout(timer);
      ctl.abort();
    };
    const untrack = track(cleanup);
    const send = () => {
      const token = client.csrfToken;
      // The token goes only to the server it came from.
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (token && new URL(pollUrl).origin === new URL(client.url, pollUrl).origin) headers['X-CSRF-Token'] = token;
      return f(pollUrl, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body), signal: ctl.signal });
    };
    try {
      // No socket ever connected (WebSockets blocked): get a token before the first poll.
      if (!client.csrfToken) await client.refreshAuth().catch(noop);
      let res = await send();
      if (res.status == 403) {
        // A restart rotated the token; fetch a fresh one and try once more.
        await client.refreshAuth();
        res = await send();
      }
      if (!res.ok) throw fail('POLL_FAILED', `POST ${pollUrl} answered HTTP ${res.status}`, { status: res.status });
      const snapshot = (await res.json()) as unknown;
      if (!isPlainObject(snapshot)) throw fail('POLL_FAILED', `poll answer: expected a JSON object, got ${kindOf(snapshot)}`);
      confirmed();
      return snapshot;
    } catch (e) {
      throw asError(e, 'POLL_FAILED'); // a network error or an abort, typed like the rest
    } finally {
      clock.clearTimeout(timer);
      untrack();
    }
  };
}
