import type { EventCallback, RequestResponse } from '../../src/index';
import type { RelayClient } from '../../src/tabs/relay';

/** A call the fake client holds until the test settles it. */
export interface HeldCall {
  op: 'request' | 'emit';
  event: string;
  data: unknown;
  opts: { correlationId?: string; timeoutMs?: number; confirm?: boolean };
  resolve(value?: unknown): void;
  reject(error: unknown): void;
}

/**
 * A leader's client for the relay: calls wait in `calls` until the test settles them;
 * `push(event, payload)` is the server sending an event; `listeners()` counts subscriptions.
 */
export function createFakeRelayClient() {
  const calls: HeldCall[] = [];
  const subs = new Map<string, Set<EventCallback<object>>>();
  const payloads = new Map<string, Set<(payload: unknown) => void>>();
  const hold = (op: HeldCall['op'], event: string, data: unknown, opts: HeldCall['opts'] = {}) =>
    new Promise((resolve, reject) => calls.push({ op, event, data, opts, resolve, reject }));
  const add = <T>(map: Map<string, Set<T>>, event: string, fn: T) =>
    map.set(event, (map.get(event) ?? new Set()).add(fn));
  const client = {
    calls,
    request: (event: string, data: unknown, opts?: HeldCall['opts']) =>
      hold('request', event, data, opts),
    emit: (event: string, data: unknown, opts?: HeldCall['opts']) =>
      hold('emit', event, data, opts),
    on(event: string, cb: EventCallback<object>) {
      add(subs, event, cb);
      return () => client.off(event, cb);
    },
    off(event: string, cb: EventCallback<object>) {
      subs.get(event)?.delete(cb);
      if (!subs.get(event)?.size) subs.delete(event);
    },
    onPayload(event: string, fn: (payload: unknown) => void) {
      add(payloads, event, fn);
      return () => {
        payloads.get(event)?.delete(fn);
        if (!payloads.get(event)?.size) payloads.delete(event);
      };
    },
    /** The server sends `event`: raw subscribers get the payload, `on()` ones an envelope. */
    push(event: string, payload: unknown) {
      payloads.get(event)?.forEach((fn) => fn(payload));
      subs.get(event)?.forEach((cb) => cb(payload as never));
    },
    /** Events with `on()` subscribers, and events relayed raw. */
    subscribed: () => [...subs.keys()],
    relayed: () => [...payloads.keys()],
    listeners: () => [...subs.values(), ...payloads.values()].reduce((n, s) => n + s.size, 0),
  };
  return client;
}

export type FakeRelayClient = ReturnType<typeof createFakeRelayClient>;

/** What `client` would use: the fake cast to the relay's client type. */
export const asRelayClient = (client: FakeRelayClient) => client as unknown as RelayClient;

/** An ack as the client resolves a request with it. */
export const ackOf = (correlationId: string, data: Record<string, unknown>): RequestResponse => ({
  correlationId,
  results: [{ handlerId: 'h', ok: true, data }],
});

/** A server envelope. */
export const envelopeOf = (data: object, eventId = 'ev-1') => ({
  handlerId: 'h',
  eventId,
  correlationId: 'c',
  ts: '2024-01-01T00:00:00.000Z',
  data,
});
