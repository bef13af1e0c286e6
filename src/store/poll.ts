/**
 * The store's HTTP fallback: one POST of the state request to `/poll`, answered with a
 * whole snapshot. Used while the push channel is down (DEGRADED) and by the liveness audit.
 */
import type { NamespacedClient } from '../client/client';
import type { Clock } from '../clock';
import { fail } from '../errors';
import { isPlainObject, kindOf } from '../protocol';

/** What a poll needs from the store. */
export interface PollOptions {
  client: NamespacedClient;
  /** Absolute URL of the poll endpoint. */
  pollUrl: string;
  /** The store's `fetch` option, if given. */
  fetch: ((input: string, init?: RequestInit) => Promise<Response>) | undefined;
  clock: Clock;
  /** A poll is aborted after this long. */
  timeoutMs: number;
  /** Registers a cleanup that stop() runs; returns its remover. */
  track(cleanup: () => void): () => void;
  /** Called when the server answered with a snapshot (the state is known current). */
  confirmed(): void;
}

/** @internal Returns `poll(body)`: the server's snapshot for that request body, or a `POLL_FAILED` rejection. */
export function createPoll(o: PollOptions): (body: object) => Promise<object> {
  const { client, pollUrl, clock } = o;
  return async (body) => {
    const f = o.fetch ?? (typeof fetch === 'function' ? fetch : undefined);
    if (!f) throw fail('POLL_FAILED', 'no fetch available for polling');
    const ctl = new AbortController();
    const timer = clock.setTimeout(() => ctl.abort(), o.timeoutMs);
    const untrack = o.track(() => {
      clock.clearTimeout(timer);
      ctl.abort();
    });
    try {
      const send = () => {
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        // The token goes only to the server it came from.
        if (client.csrfToken && new URL(pollUrl).origin === new URL(client.url, pollUrl).origin) headers['X-CSRF-Token'] = client.csrfToken;
        return f(pollUrl, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body), signal: ctl.signal });
      };
      // No socket ever connected (WebSockets blocked): get a token before the first poll.
      if (!client.csrfToken) await client.refreshAuth().catch(noop);
      let res = await send();
      if (res.status === 403) {
        // A restart rotated the token; fetch a fresh one and try once more.
        await client.refreshAuth();
        res = await send();
      }
      if (!res.ok) throw fail('POLL_FAILED', `POST ${pollUrl} answered HTTP ${res.status}`, { details: { status: res.status } });
      const snapshot = (await res.json()) as unknown;
      if (!isPlainObject(snapshot)) throw fail('POLL_FAILED', `poll answer expects a JSON object, but got ${kindOf(snapshot)}`);
      o.confirmed();
      return snapshot;
    } finally {
      clock.clearTimeout(timer);
      untrack();
    }
  };
}

const noop = () => {};
