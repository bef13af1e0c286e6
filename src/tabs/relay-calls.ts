/**
 * @internal The relayed calls of one tab (see relay.ts), both ends: the follower's table of
 * calls under way, each with its own deadline, and the leader's side, which carries out the
 * requests addressed to it, once each, and posts how each settled.
 */
import { createTimers, type Clock } from '../clock';
import type { RequestOptions } from '../client/api';
import { checkCallOptions } from '../client/options';
import { asError, fail, invalid, type SyncwireError } from '../errors';
import { createCorrelationId } from '../index';
import { assertEventName, validateAck, type RequestResponse } from '../protocol';
import type { TabChannel } from './channel';
import { MAX_ID, type TabBodies, type TabMessage } from './messages';
import type { RelayClient } from './relay';

/** A call under way. `to`: the tab carrying it out (this one when leading), null while waiting. */
interface Call {
  op: 'request' | 'emit';
  event: string;
  data: unknown;
  cid: string | null;
  /** false: an emit the server is not asked to acknowledge (`EmitOptions.confirm`). */
  confirm: boolean;
  deadline: number;
  to: string | null;
  end(error: SyncwireError | null, value?: unknown): void;
}

/** Options of {@link createRelayCalls}. */
export interface RelayCallsOptions {
  channel: TabChannel;
  clock: Clock;
  /** The deadline of a call that names none. */
  requestTimeoutMs: number;
  report: (error: SyncwireError) => void;
  /** Where calls go now: this tab's client (leading), the leader's id, or null (none known). */
  route: () => RelayClient | string | null;
}

/** The calls of one tab (see {@link createRelayCalls}). */
export interface RelayCalls {
  /** Starts a call: checked as the client checks it, then carried out where `route` says. */
  call(op: 'request' | 'emit', event: string, data: unknown, options: unknown): Promise<unknown>;
  /** Sends the calls that waited for a leader, now that `route` names one. */
  flush(): void;
  /** Ends the calls sent to another tab with `DISCONNECTED`: its answer may never come. */
  lose(why: string): void;
  /** Ends every call (`DISCONNECTED`), refuses new ones, drops timers and handlers. */
  dispose(): void;
}

/** Requests already carried out, remembered so a duplicated message is not carried out twice. */
const SEEN_MAX = 1024;

/** Creates a tab's relayed calls, listening for `request` and `result` messages. */
export function createRelayCalls(options: RelayCallsOptions): RelayCalls {
  const { channel, clock, requestTimeoutMs, report, route } = options;
  const tabId = channel.tabId;
  const timers = createTimers(clock);
  const calls = new Map<string, Call>();
  const seen = new Set<string>();
  let disposed = false;

  /** Carries out `c` where it can: on the client, at the leader, or not yet (no leader). */
  const send = (id: string, c: Call) => {
    const to = route();
    if (to === null) return;
    // The leader gets what is left of the deadline: it need not try longer than we wait.
    const timeoutMs = Math.max(1, Math.ceil(c.deadline - clock.now()));
    if (typeof to !== 'string') {
      c.to = tabId;
      const opts = { timeoutMs, correlationId: c.cid ?? undefined, confirm: c.confirm };
      const data = c.data as object | null;
      const p = c.op === 'request' ? to.request(c.event, data, opts) : to.emit(c.event, data, opts);
      p.then(
        (v) => c.end(null, v),
        (e) => c.end(asError(e, 'HANDLER_ERROR')),
      );
      return;
    }
    c.to = to;
    const { op, event, data, cid: correlationId, confirm } = c;
    const body = { id, to, correlationId, op, event, data, timeoutMs, confirm };
    // Not posted (data a structured clone cannot copy): no answer will come.
    if (!channel.post('request', body)) c.end(invalid('data', 'data a structured clone can copy'));
  };

  const call = (op: Call['op'], event: string, data: unknown, raw: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      if (disposed) throw fail('DISPOSED', 'relay was disposed');
      const timeoutMs = checkCallOptions(raw, requestTimeoutMs);
      assertEventName(event);
      const opts = (raw ?? {}) as RequestOptions;
      const cid = opts.correlationId ?? null;
      // Checked here: one the leader's message check drops would end in TIMEOUT instead.
      if (cid !== null && (typeof cid !== 'string' || !cid.trim() || cid.length > MAX_ID))
        throw invalid('correlationId', `a non-empty string of at most ${MAX_ID} characters`);
      // A fresh id per call, not the caller's correlation id, which it may use twice.
      const id = createCorrelationId('relay');
      const { signal, onAck } = opts;
      const aborted = () => fail('ABORTED', `${op} '${event}' was aborted`);
      const onAbort = () => c.end(aborted());
      const c: Call = {
        op,
        event,
        data: data ?? null,
        cid,
        confirm: op === 'request' || (opts as { confirm?: boolean }).confirm !== false,
        deadline: clock.now() + timeoutMs,
        to: null,
        end(error, value) {
          if (!calls.delete(id)) return; // settled already: a late or duplicated answer
          timers.clear(id);
          signal?.removeEventListener('abort', onAbort);
          if (error) return reject(error);
          try {
            if (op === 'request') onAck?.(value as RequestResponse);
          } catch (e) {
            report(asError(e, 'HANDLER_ERROR', 'onAck: '));
          }
          resolve(value);
        },
      };
      if (signal?.aborted) return reject(aborted());
      calls.set(id, c);
      signal?.addEventListener('abort', onAbort, { once: true });
      // The backstop: whatever the leader and the channel do, the call ends by its deadline.
      const what = `got no answer within ${timeoutMs} ms`;
      timers.set(id, timeoutMs, () => c.end(fail('TIMEOUT', `${op} '${event}' ${what}`)));
      send(id, c);
    });

  // Leader side: only the tab addressed carries a request out, and only once.
  const onRequest = ({ from, body: b }: TabMessage<'request'>) => {
    const client = route();
    if (client === null || typeof client === 'string' || b.to !== tabId) return;
    const key = JSON.stringify([from, b.id]);
    if (seen.has(key)) return;
    seen.add(key);
    if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value as string);
    const opts = {
      correlationId: b.correlationId ?? b.id,
      timeoutMs: b.timeoutMs ?? undefined,
      confirm: b.confirm,
    };
    const data = b.data as object | null;
    const p =
      b.op === 'request' ? client.request(b.event, data, opts) : client.emit(b.event, data, opts);
    // Posted even after stepping down: the follower may not know yet, and takes it from us.
    const reply = (r: Pick<TabBodies['result'], 'ok' | 'value' | 'error'>) =>
      !disposed && channel.post('result', { id: b.id, to: from, ...r });
    p.then(
      (value) => reply({ ok: true, value: b.op === 'request' ? value : undefined, error: null }),
      (e) => {
        const { code, message } = asError(e, 'HANDLER_ERROR');
        reply({ ok: false, value: undefined, error: { code, message } });
      },
    );
  };

  const onResult = ({ from, body: b }: TabMessage<'result'>) => {
    const c = b.to === tabId ? calls.get(b.id) : undefined;
    if (!c || c.to !== from) return; // not ours, settled already, or not from the tab asked
    if (!b.ok) return c.end(fail(b.error!.code, b.error!.message, { relayedBy: from }));
    if (c.op === 'emit') return c.end(null);
    // Another tab is not trusted more than the server: its ack is checked again.
    try {
      c.end(null, validateAck(b.value, c.cid ?? b.id));
    } catch (e) {
      c.end(asError(e, 'INVALID_ENVELOPE'));
    }
  };

  channel.handle('request', onRequest);
  channel.handle('result', onResult);
  return {
    call,
    flush() {
      for (const [id, c] of calls) if (c.to === null) send(id, c);
    },
    lose(why) {
      for (const [, c] of calls)
        if (c.to !== null && c.to !== tabId)
          c.end(fail('DISCONNECTED', `${c.op} '${c.event}' lost: ${why}`));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const [, c] of calls) c.end(fail('DISCONNECTED', `${c.op} '${c.event}' lost: disposed`));
      timers.clearAll();
      seen.clear();
      channel.handle('request', undefined);
      channel.handle('result', undefined);
    },
  };
}
