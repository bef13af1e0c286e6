import type { SocketFactory, SocketLike, SocketListener } from '../../src/index';

export interface Sent {
  event: string;
  payload: unknown;
  ack?: (value: unknown) => void;
  /** The connection it was sent on (counted by `accept()`), or -1 when sent while not connected. */
  conn: number;
}

/** The Manager's own events, as socket.io-client's `socket.io` emits them (`reconnect_failed`). */
export class FakeManager {
  private listeners = new Map<string, Set<SocketListener>>();
  on(event: string, fn: SocketListener) {
    this.listeners.set(event, (this.listeners.get(event) ?? new Set()).add(fn));
    return this;
  }
  off(event: string, fn: SocketListener) {
    this.listeners.get(event)?.delete(fn);
    return this;
  }
  listenerCount(): number {
    let n = 0;
    this.listeners.forEach((l) => (n += l.size));
    return n;
  }
  fire(event: string, ...args: unknown[]) {
    [...(this.listeners.get(event) ?? [])].forEach((fn) => fn(...args));
  }
}

/** A scriptable stand-in for a socket.io-client Socket, driven by the test. */
export class FakeSocket implements SocketLike {
  connected = false;
  active = false;
  connectCalls = 0;
  /** Connections accepted so far; the current one's number while connected. */
  connections = 0;
  /** True after the Manager gave up reconnecting, until `connect()` is called again. */
  gaveUp = false;
  readonly io = new FakeManager();
  sent: Sent[] = [];
  authPayloads: object[] = [];
  private listeners = new Map<string, SocketListener[]>();
  private buffer: unknown[][] = [];

  constructor(
    readonly url: string,
    readonly namespace: string,
    private auth: (cb: (data: object) => void) => void,
  ) {}

  connect() {
    this.connectCalls++;
    this.active = true;
    // socket.io-client: connect() on a socket whose Manager gave up opens the Manager again.
    this.gaveUp = false;
    return this;
  }
  disconnect() {
    this.active = false;
    if (this.connected) {
      this.connected = false;
      this.fire('disconnect', 'io client disconnect');
    }
    return this;
  }
  on(event: string, fn: SocketListener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }
  off(event: string, fn: SocketListener) {
    const list = (this.listeners.get(event) ?? []).filter((l) => l !== fn);
    if (list.length) this.listeners.set(event, list);
    else this.listeners.delete(event);
    return this;
  }
  emit(event: string, ...args: unknown[]) {
    const last = args[args.length - 1];
    this.sent.push({
      event,
      payload: args[0],
      ack: typeof last === 'function' ? (last as (v: unknown) => void) : undefined,
      conn: this.connected ? this.connections : -1,
    });
    return this;
  }

  /** Listeners on the socket for `event`; without one, every listener, the Manager's included. */
  listenerCount(event?: string): number {
    if (event) return this.listeners.get(event)?.length ?? 0;
    let n = this.io.listenerCount();
    this.listeners.forEach((l) => (n += l.length));
    return n;
  }
  private fire(event: string, ...args: unknown[]) {
    [...(this.listeners.get(event) ?? [])].forEach((fn) => fn(...args));
  }

  /** Runs the auth callback as Socket.IO does when the engine opens. */
  runAuth(): Promise<object> {
    return new Promise((resolve) =>
      this.auth((data) => {
        this.authPayloads.push(data);
        resolve(data);
      }),
    );
  }
  /** The server accepts: buffered events first, then `connect` (Socket.IO's order). */
  accept() {
    this.connected = true;
    this.active = true;
    this.connections++;
    const buffered = this.buffer;
    this.buffer = [];
    buffered.forEach((args) => this.fire(...(args as [string, ...unknown[]])));
    this.fire('connect');
  }
  /** A namespace-level rejection: Socket.IO destroys the socket and will not retry. */
  reject(message = 'Connection rejected by server', data?: unknown) {
    this.active = false;
    const err = Object.assign(new Error(message), { data });
    this.fire('connect_error', err);
  }
  /** A transport failure: Socket.IO's Manager retries by itself. */
  transportError(message = 'websocket error') {
    this.fire('connect_error', new Error(message));
  }
  /**
   * socket.io-client's Manager reached `reconnectionAttempts`: it emits `reconnect_failed`
   * and stops; the socket stays `active` (its subscriptions remain), so only a new
   * `connect()` opens the Manager again.
   */
  giveUp() {
    this.gaveUp = true;
    this.io.fire('reconnect_failed');
  }
  /** The connection drops (Socket.IO reconnects unless the reason says otherwise). */
  drop(reason = 'transport close') {
    this.connected = false;
    if (reason === 'io server disconnect') this.active = false;
    this.fire('disconnect', reason);
  }
  /** The server emits; before `connect` the event is buffered like Socket.IO does. */
  serverEmit(event: string, ...args: unknown[]) {
    if (this.connected) this.fire(event, ...args);
    else this.buffer.push([event, ...args]);
  }
}

/** A socket factory that records the sockets it makes. */
export function fakeSocketFactory(): SocketFactory & { sockets: FakeSocket[]; last(): FakeSocket } {
  const sockets: FakeSocket[] = [];
  const factory = ((init: Parameters<SocketFactory>[0]) => {
    const s = new FakeSocket(init.url, init.namespace, init.auth);
    sockets.push(s);
    return s;
  }) as unknown as SocketFactory & { sockets: FakeSocket[]; last(): FakeSocket };
  factory.sockets = sockets;
  factory.last = () => {
    const s = sockets[sockets.length - 1];
    if (!s) throw new Error('no socket created yet');
    return s;
  };
  return factory;
}

let n = 0;
/** A valid server envelope around `data`. */
export function envelope(data: unknown = {}, overrides: Record<string, unknown> = {}) {
  n++;
  return {
    handlerId: 'test.Handler',
    eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    correlationId: `corr-${n}`,
    ts: '2026-11-23T12:00:00.000Z',
    data,
    ...overrides,
  };
}
