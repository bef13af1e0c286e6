import type { SyncHealth, SyncStoreEvent } from '../../src/index';
import type { ChannelLike } from '../../src/tabs/channel';
import type { MirrorSource } from '../../src/tabs/mirror';

type Listener = (event: { data: unknown }) => void;

export interface Member {
  name: string;
  listeners: Map<string, Set<Listener>>;
  port: ChannelLike;
  closed: boolean;
}

/** A message on its way to one tab. */
export interface InFlight {
  to: Member;
  data: unknown;
}

/**
 * BroadcastChannel between tabs, in one test: what a channel posts reaches every other open
 * channel of the same name (never itself), as a structured clone. `manual`: messages wait in
 * `inFlight` until the test delivers, drops, duplicates or reorders them; otherwise each is
 * delivered from a microtask. `bus.manual` may be switched either way as the test goes.
 */
export function createFakeBus({ manual = false } = {}) {
  const members = new Set<Member>();
  const inFlight: InFlight[] = [];
  const dispatch = ({ to, data }: InFlight) => {
    if (to.closed) return; // a closed channel hears nothing
    const event = { data };
    to.listeners.get('message')?.forEach((fn) => fn(event));
    to.port.onmessage?.(event);
  };
  const bus = {
    inFlight,
    manual,
    /** Opens a channel named `name`; `style: 'onmessage'` has no addEventListener. */
    open(name: string, style: 'events' | 'onmessage' = 'events'): ChannelLike {
      const member: Member = { name, listeners: new Map(), port: undefined!, closed: false };
      const port: ChannelLike = {
        postMessage(message) {
          if (member.closed) throw new DOMException('Channel is closed', 'InvalidStateError');
          const data = structuredClone(message);
          for (const to of members) {
            if (to === member || to.closed || to.name !== name) continue;
            const m = { to, data: structuredClone(data) };
            if (bus.manual) inFlight.push(m);
            else queueMicrotask(() => dispatch(m));
          }
        },
        close() {
          member.closed = true;
          members.delete(member);
        },
        onmessage: null,
      };
      if (style === 'events') {
        port.addEventListener = (type, fn) => {
          const set = member.listeners.get(type) ?? new Set();
          member.listeners.set(type, set.add(fn));
        };
        port.removeEventListener = (type, fn) => void member.listeners.get(type)?.delete(fn);
      }
      member.port = port;
      members.add(member);
      return port;
    },
    /** Sends raw `data` to every open channel named `name` (a foreign or broken tab). */
    inject(name: string, data: unknown, type = 'message') {
      for (const to of members) {
        if (to.name !== name) continue;
        to.listeners.get(type)?.forEach((fn) => fn({ data }));
        if (type === 'message') to.port.onmessage?.({ data });
      }
    },
    /** Delivers in-flight message `i` (manual mode). */
    deliver(i = 0) {
      const [m] = inFlight.splice(i, 1);
      if (m) dispatch(m);
    },
    drop(i = 0) {
      inFlight.splice(i, 1);
    },
    duplicate(i = 0) {
      const m = inFlight[i];
      if (m) inFlight.push({ ...m, data: structuredClone(m.data) });
    },
    /** Delivers everything in flight, in order, including what delivering posts. */
    deliverAll() {
      while (inFlight.length) bus.deliver(0);
    },
    /** Listeners still attached to `port` (addEventListener style), by type. */
    listenerCount: (port: ChannelLike) =>
      [...([...members].find((m) => m.port === port)?.listeners.values() ?? [])].reduce(
        (a, s) => a + s.size,
        0,
      ),
  };
  return bus;
}

/** A health snapshot as a store gives it. */
export function healthOf(fields: Partial<SyncHealth> = {}): SyncHealth {
  return Object.freeze({
    mode: 'HEALTHY',
    connected: true,
    epoch: null,
    lastSeq: -1,
    lastAppliedAt: null,
    source: null,
    staleMs: 0,
    lastError: null,
    counters: { pushesApplied: 0, pushesDropped: 0, resyncs: 0, polls: 0, handshakes: 0 },
    ...fields,
  });
}

/** A store-like source for a leader's mirror: `apply` shows a state and notifies at once. */
export function fakeSource<S>(state: S, health: SyncHealth = healthOf()) {
  const listeners = new Set<(e: SyncStoreEvent<S>) => void>();
  const source = {
    state,
    health,
    subscribe(fn: (e: SyncStoreEvent<S>) => void) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    listeners,
    apply(next: S, fields: Partial<SyncHealth>) {
      source.state = next;
      source.health = healthOf({ ...source.health, ...fields });
      listeners.forEach((fn) => fn({ type: 'state', state: next }));
    },
  } satisfies MirrorSource<S> & Record<string, unknown>;
  return source;
}
