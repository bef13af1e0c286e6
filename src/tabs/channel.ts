/**
 * @internal One tab's end of its channel: posts typed messages, and hands each checked message
 * to the handler of its kind. What fails the check is reported and goes no further.
 */
import { asError, fail, invalid, type SyncwireError } from '../errors';
import { noop } from '../util';
import {
  readTabMessage,
  tabMessage,
  type TabBodies,
  type TabKind,
  type TabMessage,
} from './messages';

/**
 * The slice of a `BroadcastChannel` the tabs use: `postMessage`, `close`, and either
 * `addEventListener`/`removeEventListener` or an `onmessage` property.
 */
export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  addEventListener?(type: string, listener: (event: { data: unknown }) => void): void;
  removeEventListener?(type: string, listener: (event: { data: unknown }) => void): void;
  onmessage?: ((event: { data: unknown }) => void) | null;
}

/** Handlers by kind; a kind without one is ignored (a later module may handle it). */
export type TabHandlers = { [K in TabKind]?: (message: TabMessage<K>) => void };

/** A tab's end of a channel (see {@link openTabChannel}). */
export interface TabChannel {
  /** The channel name. */
  readonly name: string;
  /** This tab's id, the `from` of what it posts. */
  readonly tabId: string;
  /**
   * Posts a message of `kind` to the other tabs. A channel that throws (closed, or a body that
   * cannot be cloned) is reported, and the post returns false: a caller waiting for an answer
   * (a relayed call) learns at once that none will come.
   */
  post<K extends TabKind>(kind: K, body: TabBodies[K]): boolean;
  /** Sets the handler of `kind` (undefined removes it). */
  handle<K extends TabKind>(kind: K, handler: TabHandlers[K]): void;
  /** Stops listening and closes the channel. Idempotent. */
  close(): void;
}

/** Options of {@link openTabChannel}. */
export interface TabChannelOptions {
  /** The channel: tabs share what they post on the same name. */
  channel: ChannelLike;
  /** The channel name, checked on every message. */
  name: string;
  /** This tab's id. */
  tabId: string;
  /** Hears a message dropped by the check (`INVALID_ENVELOPE`), or a post that threw. */
  onError?: (error: SyncwireError) => void;
}

/**
 * Listens on `channel`: messages from other tabs are read with {@link readTabMessage} and go
 * to their kind's handler; a message that claims to come from this tab is dropped (another
 * store of this page on the same name would otherwise take this tab's posts for a leader's).
 */
export function openTabChannel(options: TabChannelOptions): TabChannel {
  const { channel, name, tabId } = options;
  if (typeof channel?.postMessage !== 'function' || typeof channel.close !== 'function')
    throw invalid('channel', 'a BroadcastChannel-like object');
  const report = options.onError ?? noop;
  const handlers: TabHandlers = {};
  let closed = false;

  const onMessage = (event: { data: unknown }) => {
    if (closed) return;
    let message: TabMessage;
    try {
      message = readTabMessage(event?.data, name);
    } catch (e) {
      return report(asError(e, 'INVALID_ENVELOPE'));
    }
    if (message.from === tabId) return;
    const handler = handlers[message.kind] as ((m: TabMessage) => void) | undefined;
    handler?.(message);
  };
  // A message the browser could not deserialize (`messageerror`) is a dropped message too.
  const onMessageError = () =>
    report(fail('INVALID_ENVELOPE', 'tab message: the browser could not deserialize it'));
  const useEvents = typeof channel.addEventListener === 'function';
  if (useEvents) {
    channel.addEventListener!('message', onMessage);
    channel.addEventListener!('messageerror', onMessageError);
  } else channel.onmessage = onMessage;

  return {
    name,
    tabId,
    post(kind, body) {
      if (closed) return false;
      try {
        channel.postMessage(tabMessage(name, tabId, kind, body));
        return true;
      } catch (e) {
        // A state that cannot be cloned (a function in it) or a channel the browser closed.
        report(asError(e, 'HANDLER_ERROR', 'BroadcastChannel.postMessage: '));
        return false;
      }
    },
    handle(kind, handler) {
      (handlers as Record<string, unknown>)[kind] = handler;
    },
    close() {
      if (closed) return;
      closed = true;
      if (useEvents) {
        channel.removeEventListener?.('message', onMessage);
        channel.removeEventListener?.('messageerror', onMessageError);
      } else channel.onmessage = null;
      channel.close();
    },
  };
}

/** A tab channel that can be closed and opened again (see {@link createSwitchChannel}). */
export interface SwitchChannel extends TabChannel {
  /** Listens on `channel` (closing the one listened on before), with the handlers set so far. */
  attach(channel: ChannelLike): void;
  /** Closes the channel listened on: posts return false and nothing is heard until `attach`. */
  detach(): void;
}

/**
 * A tab channel whose handlers outlive the BroadcastChannel under it: a shared store sets its
 * handlers once, and opens a BroadcastChannel on each `start()` and closes it on `stop()`, so
 * a stopped tab neither hears nor keeps anything open.
 */
export function createSwitchChannel(options: Omit<TabChannelOptions, 'channel'>): SwitchChannel {
  const handlers: TabHandlers = {};
  let open: TabChannel | null = null;
  const detach = () => {
    open?.close();
    open = null;
  };
  return {
    name: options.name,
    tabId: options.tabId,
    post: (kind, body) => open?.post(kind, body) ?? false,
    handle(kind, handler) {
      (handlers as Record<string, unknown>)[kind] = handler;
      open?.handle(kind, handler);
    },
    attach(channel) {
      detach();
      const next = openTabChannel({ ...options, channel });
      for (const kind of Object.keys(handlers) as (keyof TabHandlers)[])
        next.handle(kind, handlers[kind]);
      open = next;
    },
    detach,
    close: detach,
  };
}
