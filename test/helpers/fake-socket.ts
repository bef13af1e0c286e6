import type { SocketFactory, SocketLike, SocketListener, SocketTransport } from '../../src/index';

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

/** One WebSocket probe the client started, until the test answers it or the client cancels it. */
export interface FakeProbe {
  done: (ok: boolean) => void;
  cancelled: boolean;
  answered: boolean;
}

/**
 * A scriptable {@link SocketTransport}: which transport a connection lands on (`wsBlocked`: the
 * network refuses WebSockets), the order of the next connection, upgrades and probes.
 */
export class FakeTransport implements SocketTransport {
  name: string | undefined;
  /** The network refuses WebSockets: a connection lands on long-polling when it may use it. */
  wsBlocked = false;
  probes: FakeProbe[] = [];
  /** Called with each probe the client starts (a network that answers by itself). */
  onProbe?: (p: FakeProbe) => void;
  private upgraded = new Set<(name: string) => void>();

  constructor(public order: string[] = ['websocket', 'polling']) {}

  setFirst(name: string) {
    if (this.order.includes(name)) this.order = [name, ...this.order.filter((t) => t !== name)];
  }
  onUpgrade(listener: (name: string) => void) {
    this.upgraded.add(listener);
    return () => void this.upgraded.delete(listener);
  }
  probe(done: (ok: boolean) => void) {
    const p: FakeProbe = { done, cancelled: false, answered: false };
    this.probes.push(p);
    this.onProbe?.(p);
    return () => void (p.cancelled = true);
  }

  /** Probes neither answered nor cancelled. */
  open(): FakeProbe[] {
    return this.probes.filter((p) => !p.cancelled && !p.answered);
  }
  /** Answers the oldest open probe; false when there is none. */
  answer(ok: boolean): boolean {
    const p = this.open()[0];
    if (!p) return false;
    p.answered = true;
    p.done(ok);
    return true;
  }
  /** The open connection upgrades (Engine.IO's own upgrade after opening on long-polling). */
  upgrade(name = 'websocket') {
    this.name = name;
    [...this.upgraded].forEach((fn) => fn(name));
  }
  listenerCount(): number {
    return this.upgraded.size;
  }
  /** The transport a new connection lands on: the first of `order`, unless the network blocks it. */
  land(): string {
    const first = this.order[0] ?? 'polling';
    if (this.wsBlocked && first === 'websocket')
      return this.order.find((t) => t !== 'websocket') ?? first;
    return first;
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

  /** Called when the client calls `disconnect()` (before anything else happens). */
  onClientDisconnect?: () => void;

  constructor(
    readonly url: string,
    readonly namespace: string,
    private auth: (cb: (data: object) => void) => void,
    /** Transport information and control, when the factory gives one. */
    readonly transport?: FakeTransport,
  ) {}

  connect() {
    this.connectCalls++;
    this.active = true;
    // socket.io-client: connect() on a socket whose Manager gave up opens the Manager again.
    this.gaveUp = false;
    return this;
  }
  disconnect() {
    this.onClientDisconnect?.();
    this.active = false;
    if (this.connected) {
      this.connected = false;
      if (this.transport) this.transport.name = undefined;
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
    let n = this.io.listenerCount() + (this.transport?.listenerCount() ?? 0);
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
    if (this.transport) this.transport.name = this.transport.land();
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
    if (this.transport) this.transport.name = undefined;
    if (reason === 'io server disconnect') this.active = false;
    this.fire('disconnect', reason);
  }
  /** The server emits; before `connect` the event is buffered like Socket.IO does. */
  serverEmit(event: string, ...args: unknown[]) {
    if (this.connected) this.fire(event, ...args);
    else this.buffer.push([event, ...args]);
  }
}

/**
 * A socket factory that records the sockets it makes. With `transport`, each socket gets a
 * {@link FakeTransport} (the order of the socket options' `transports`, or the default one).
 */
export function fakeSocketFactory(
  opts: { transport?: boolean } = {},
): SocketFactory & { sockets: FakeSocket[]; last(): FakeSocket } {
  const sockets: FakeSocket[] = [];
  const factory = ((init: Parameters<SocketFactory>[0]) => {
    const order = init.options.transports as string[] | undefined;
    const transport = opts.transport ? new FakeTransport(order && [...order]) : undefined;
    const s = new FakeSocket(init.url, init.namespace, init.auth, transport);
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
