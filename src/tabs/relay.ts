/**
 * @internal The shared store's `client` in every tab: `request`, `emit`, `on` and `off`. The
 * leader runs them on its real client. A follower sends its calls to the leader, which carries
 * them out and posts how each settled; and it tells the leader which server events it wants,
 * which the leader then posts to the followers as they come.
 *
 * A follower's call settles exactly once and never hangs, whatever happens to the messages or
 * to the leader: with the leader's answer (the same value, or an error with the same code), at
 * its own deadline with `TIMEOUT`, with `DISCONNECTED` when the leader it was sent to is lost
 * (it may or may not have been carried out, as when a socket closes under a call), or with
 * `ABORTED` when its signal aborts.
 */
import type { Clock } from '../clock';
import type { EmitOptions, EventCallback, NamespacedClient, RequestOptions } from '../client/api';
import { asError, invalid, type SyncwireError } from '../errors';
import { validateServerEnvelope } from '../index';
import { assertEventName, type RequestResponse } from '../protocol';
import { noop } from '../util';
import type { TabChannel } from './channel';
import type { TabRole } from './election';
import type { TabBodies, TabMessage } from './messages';
import { createRelayCalls } from './relay-calls';

/** What a leader's relay uses of its client (a `NamespacedClient` fits). */
export type RelayClient = Pick<NamespacedClient, 'request' | 'emit' | 'on' | 'off' | 'onPayload'>;

/** Options of {@link createRelay}. */
export interface RelayOptions {
  /** This tab's end of the channel (see openTabChannel); it stays the caller's. */
  channel: TabChannel;
  /** Every deadline runs on it. */
  clock: Clock;
  /** The deadline of a call that names none: the client's `requestTimeoutMs`. */
  requestTimeoutMs: number;
  /** Hears a subscriber that throws, a relayed event that fails its check, a failed post. */
  onError?: (error: SyncwireError) => void;
}

/** A tab's client calls, carried out here or by the leader (see {@link createRelay}). */
export interface Relay {
  readonly role: TabRole;
  /** The leader this follower sends its calls to; null while none is known (calls wait). */
  readonly leader: string | null;
  /** As `NamespacedClient.request`. The relayed result is checked again (`validateAck`). */
  request(event: string, data?: object | null, options?: RequestOptions): Promise<RequestResponse>;
  /**
   * As `NamespacedClient.emit`. A follower's `confirm: false` emit settles once the leader has
   * handed it to its socket, as the leader's own does.
   */
  emit(event: string, data?: object | null, options?: EmitOptions): Promise<void>;
  /**
   * As `NamespacedClient.on`. A follower's callback gets the envelope relayed by the leader,
   * checked again; its return value answers no server request (only the leader's tab can).
   */
  on(event: string, callback: EventCallback<object>): () => void;
  off(event: string, callback: EventCallback<object>): void;
  /** Leads: calls and subscriptions run on `client`; followers' calls addressed here too. */
  lead(client: RelayClient): void;
  /** Follows tab `leader` (null: unknown yet). Calls sent to another leader end `DISCONNECTED`. */
  follow(leader: string | null): void;
  /** The leader is gone: calls sent to it end `DISCONNECTED`; new ones wait for the next. */
  leaderLost(): void;
  /** Ends every call (`DISCONNECTED`), stops relaying, drops every timer and handler. */
  dispose(): void;
}

/**
 * Creates the relay of one tab, following no known leader until {@link Relay.follow} or
 * {@link Relay.lead}.
 *
 * @example
 * ```ts
 * const relay = createRelay({ channel, clock: systemClock, requestTimeoutMs: 30000 })
 * election.onRole((role) => (role === 'leader' ? relay.lead(client) : relay.follow(null)))
 * await relay.request('echo', { text: 'hi' })
 * ```
 */
export function createRelay(options: RelayOptions): Relay {
  const { channel, clock, requestTimeoutMs } = options;
  const report = options.onError ?? noop;
  const tabId = channel.tabId;
  const subs = new Map<string, Set<EventCallback<object>>>();
  // Leader side: what each follower asked for (kept in every role, so a tab that becomes
  // leader relays at once), and the events relayed.
  const asks = new Map<string, TabBodies['subscribe']>();
  const relayed = new Map<string, () => void>();
  let role: TabRole = 'follower';
  let leader: string | null = null;
  let client: RelayClient | undefined;
  let askN = 0;
  let disposed = false;
  const calls = createRelayCalls({
    channel,
    clock,
    requestTimeoutMs,
    report,
    route: () => client ?? leader,
  });

  /** Tells the leader which events this follower wants, all of them (an empty list: none). */
  const ask = () => {
    // A tab that never asked has nothing to undo: it stays silent.
    if (role === 'follower' && leader !== null && (subs.size || askN))
      channel.post('subscribe', { n: ++askN, events: [...subs.keys()] });
  };

  /** Leader: relays exactly the events some follower asked for (raw: the follower checks). */
  const syncRelayed = () => {
    const wanted = new Set<string>();
    if (client && !disposed) for (const a of asks.values()) a.events.forEach((e) => wanted.add(e));
    for (const [event, stop] of relayed)
      if (!wanted.has(event)) {
        stop();
        relayed.delete(event);
      }
    for (const event of wanted)
      if (!relayed.has(event))
        relayed.set(
          event,
          client!.onPayload(event, (payload) => channel.post('event', { event, payload })),
        );
  };

  const onEvent = ({ from, body: b }: TabMessage<'event'>) => {
    const callbacks = role === 'follower' && from === leader ? subs.get(b.event) : undefined;
    if (!callbacks) return;
    let envelope;
    try {
      envelope = validateServerEnvelope(b.payload);
    } catch (e) {
      return report(asError(e, 'INVALID_ENVELOPE'));
    }
    for (const cb of [...callbacks]) {
      try {
        cb(envelope);
      } catch (e) {
        report(asError(e, 'HANDLER_ERROR', `on('${b.event}') callback: `));
      }
    }
  };

  const onSubscribe = ({ from, body }: TabMessage<'subscribe'>) => {
    if (body.n <= (asks.get(from)?.n ?? 0)) return; // late or duplicated
    // An empty list is kept too, with its n: a late, older list must not undo it.
    asks.set(from, body);
    syncRelayed();
  };

  const off = (event: string, callback: EventCallback<object>) => {
    const set = subs.get(event);
    if (!set?.delete(callback)) return;
    client?.off(event, callback);
    if (set.size) return;
    subs.delete(event);
    ask(); // the last callback: stop asking for it
  };

  /** Stops using the client: local subscriptions off it, nothing relayed. */
  const stepDown = () => {
    if (!client) return;
    for (const [event, set] of subs) for (const cb of set) client.off(event, cb);
    client = undefined;
    syncRelayed();
  };

  channel.handle('event', onEvent);
  channel.handle('subscribe', onSubscribe);

  return {
    get role() {
      return role;
    },
    get leader() {
      return leader;
    },
    // While leading, straight to the client: its own semantics in full (`onAck` in wire
    // order, `confirm: false`); relayed otherwise.
    request: (event, data, opts) =>
      (client
        ? client.request(event, data, opts)
        : calls.call('request', event, data, opts)) as Promise<RequestResponse>,
    emit: (event, data, opts) =>
      (client
        ? client.emit(event, data, opts)
        : calls.call('emit', event, data, opts)) as Promise<void>,
    on(event, callback) {
      assertEventName(event);
      if (typeof callback !== 'function') throw invalid('callback', 'a function');
      if (disposed) return noop;
      const set = subs.get(event) ?? new Set();
      const first = !subs.has(event);
      subs.set(event, set.add(callback));
      client?.on(event, callback);
      if (first) ask();
      return () => off(event, callback);
    },
    off: (event, callback) => off(event, callback),
    lead(next) {
      if (disposed) return;
      stepDown();
      role = 'leader';
      leader = tabId;
      calls.lose('this tab became the leader');
      client = next;
      for (const [event, set] of subs) for (const cb of set) next.on(event, cb);
      syncRelayed();
      // Calls that waited for a leader run here now.
      calls.flush();
    },
    follow(next) {
      if (disposed) return;
      stepDown();
      role = 'follower';
      if (next === leader) return;
      if (leader !== null) calls.lose(`the leader changed (${leader} → ${next ?? 'none'})`);
      leader = next === tabId ? null : next;
      // No leader: nothing to relay from, so this tab asks for nothing until it knows one (a
      // stopped tab is not relayed to); the next leader gets the whole list again.
      if (leader === null && askN) channel.post('subscribe', { n: ++askN, events: [] });
      else ask();
      calls.flush();
    },
    leaderLost() {
      if (disposed || role === 'leader') return;
      calls.lose(`the leader (${leader ?? 'none'}) is gone`);
      leader = null;
    },
    dispose() {
      if (disposed) return;
      stepDown();
      if (subs.size) {
        subs.clear();
        ask(); // nothing wanted any more: the leader stops relaying for this tab
      }
      disposed = true;
      calls.dispose();
      asks.clear();
      syncRelayed();
      channel.handle('event', undefined);
      channel.handle('subscribe', undefined);
    },
  };
}
