// The simulated world of the client model: a Socket.IO server whose Manager, acks, events
// and rejections are commands, the /csrf_token endpoint, the user's auth function, and the
// application calling the client. Every call is tracked until it settles.
import {
  createNamespacedClient,
  SyncwireError,
  type NamespacedClient,
  type SyncwireErrorCode,
} from '../../src/index';
import { envelope, fakeSocketFactory, type FakeSocket, type Sent } from '../helpers/fake-socket';
import { createSimClock, seededRandom, type SimClock } from './sim-clock';
import { serverConnect, userAuth, type AuthMode } from './shared';

export interface ClientSetup {
  seed: number;
  auth: 'user' | 'default';
  requireToken: boolean;
  authTimeoutMs: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  retry: { baseMs: number; maxMs: number };
  maxPending: number;
  /** The sockets tell their transport (the default factory's do), so the client probes and moves. */
  transport: boolean;
  probe: { baseMs: number; maxMs: number; timeoutMs: number };
  /** The transport memo's storage: a working one, or one that throws on every access. */
  memo: 'map' | 'throwing';
  /** The network refuses WebSockets from the start. */
  wsBlocked: boolean;
}

/** Codes a call may reject with; anything else is a bug. */
const CALL_CODES: SyncwireErrorCode[] = [
  'TIMEOUT',
  'DISCONNECTED',
  'NOT_CONNECTED',
  'ABORTED',
  'DISPOSED',
  'INVALID_ENVELOPE',
  'OVERFLOW',
  'UNKNOWN_NAMESPACE',
];
const CONNECT_CODES: SyncwireErrorCode[] = [
  'CONNECT_ERROR',
  'DISCONNECTED',
  'DISPOSED',
  'UNKNOWN_NAMESPACE',
];

interface Call {
  id: number;
  kind: 'emit' | 'request' | 'connect';
  at: number;
  timeoutMs: number;
  abort?: AbortController;
  settled: number;
}

interface TokenFetch {
  done: boolean;
  gen: number;
  resolve(res: Response): void;
  reject(e: unknown): void;
}

export class ClientWorld {
  readonly clock: SimClock;
  readonly factory: ReturnType<typeof fakeSocketFactory>;
  readonly client: NamespacedClient;
  readonly violations: string[] = [];
  readonly errors: unknown[] = [];
  readonly rand: () => number;
  readonly calls: Call[] = [];
  readonly fetches: TokenFetch[] = [];
  readonly authing = new Set<FakeSocket>();
  /** Acks of the server's own requests to the client: correlationId → times answered. */
  readonly serverRequests = new Map<string, { answers: unknown[] }>();
  /** Client events the server has acknowledged. */
  private readonly acked = new WeakSet<Sent>();
  authMode: AuthMode = 'ok';
  /** The heal phase: the server answers token fetches at once. */
  healing = false;
  tokenGen = 1;
  runtime = 1;
  subscriptions: (() => void)[] = [];
  answerMode: 'value' | 'throw' | 'reject' | 'cycle' = 'value';
  disposed = false;
  terminal = false;
  /** Time of the last call that asks for a connection, and of the last disconnect(). */
  intentAt = -1;
  manualAt = -1;
  gaveUpAt = -1;
  stuckSince: number | null = null;
  /** The network refuses WebSockets (a proxy): connections land on long-polling. */
  wsBlocked = false;
  /** A user command that may close the socket itself is running (its close is no move). */
  private userAct = false;
  /** Per connection: its first transport in order when it was accepted, and whether a probe opened since. */
  private conn = { polledFirst: false, probeOk: false };
  readonly memoData = new Map<string, string>();
  private nextId = 0;

  constructor(readonly setup: ClientSetup) {
    this.clock = createSimClock(1_700_000_000_000);
    this.rand = seededRandom(setup.seed);
    this.wsBlocked = setup.wsBlocked;
    this.factory = fakeSocketFactory({ transport: setup.transport });
    const data = this.memoData;
    const storage =
      setup.memo === 'map'
        ? {
            getItem: (k: string) => data.get(k) ?? null,
            setItem: (k: string, v: string) => void data.set(k, v),
            removeItem: (k: string) => void data.delete(k),
          }
        : {
            getItem: () => {
              throw new Error('SecurityError');
            },
            setItem: () => {
              throw new Error('QuotaExceededError');
            },
            removeItem: () => {
              throw new Error('SecurityError');
            },
          };
    this.client = createNamespacedClient('/dev_websocket_test', {
      url: 'http://sim.test/',
      clock: this.clock,
      random: this.rand,
      socketFactory: this.factory,
      fetch: (url: string, init?: RequestInit) => this.fetch(url, init),
      auth: setup.auth === 'user' ? () => userAuth(this.authMode, this.tokenGen) : undefined,
      authTimeoutMs: setup.authTimeoutMs,
      connectTimeoutMs: setup.connectTimeoutMs,
      requestTimeoutMs: setup.requestTimeoutMs,
      retry: setup.retry,
      maxPending: setup.maxPending,
      websocketProbe: setup.probe,
      transportMemo: { storage },
      logger: { warn: false }, // the model checks errors itself
    });
    this.client.onError((e) => {
      this.errors.push(e);
      if (!(e instanceof SyncwireError))
        this.violate(`onError got a ${typeof e}, not a SyncwireError`);
    });
    this.clock.onTick = () => this.check();
  }

  violate(what: string) {
    this.violations.push(`t+${this.clock.now() - 1_700_000_000_000} ms: ${what}`);
  }
  socket(): FakeSocket | undefined {
    return this.factory.sockets.at(-1);
  }

  private fetch(url: string, init?: RequestInit): Promise<Response> {
    if (!url.endsWith('/csrf_token') || url.includes('//csrf_token'))
      this.violate(`fetched ${url}`);
    return new Promise<Response>((resolve, reject) => {
      const f: TokenFetch = { done: false, gen: this.tokenGen, resolve, reject };
      const signal = init?.signal;
      if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
      signal?.addEventListener('abort', () => {
        if (f.done) return;
        f.done = true;
        reject(new DOMException('aborted', 'AbortError'));
      });
      this.fetches.push(f);
      // A healthy server answers before any deadline of the client's, however short.
      if (this.healing)
        this.clock.world(
          () => this.answerToken(this.fetches.filter((x) => !x.done).indexOf(f), 'ok'),
          0,
        );
    });
  }

  answerToken(i: number, how: 'ok' | '500' | 'neterr') {
    const f = this.fetches.filter((x) => !x.done)[i];
    if (!f) return;
    f.done = true;
    if (how === 'neterr') return f.reject(new TypeError('Failed to fetch'));
    const body =
      how === 'ok'
        ? { ok: true, token: `tok-${f.gen}`, runtime_id: `R${this.runtime}` }
        : { ok: false };
    f.resolve({
      ok: how === 'ok',
      status: how === 'ok' ? 200 : 500,
      json: () => Promise.resolve(body),
    } as unknown as Response);
  }

  // ---- the application ----
  private track(
    kind: Call['kind'],
    timeoutMs: number,
    p: Promise<unknown>,
    abort?: AbortController,
  ) {
    const call: Call = {
      id: ++this.nextId,
      kind,
      at: this.clock.now(),
      timeoutMs,
      abort,
      settled: 0,
    };
    this.calls.push(call);
    const codes = kind === 'connect' ? CONNECT_CODES : CALL_CODES;
    p.then(
      () => void call.settled++,
      (e: unknown) => {
        call.settled++;
        if (!(e instanceof SyncwireError))
          this.violate(`${kind} #${call.id} rejected with a ${String(e)}, not a SyncwireError`);
        else if (!codes.includes(e.code))
          this.violate(`${kind} #${call.id} rejected with ${e.code}: ${e.message}`);
      },
    );
  }

  /** A call that asks for a connection (lazily connecting), unless it throws first. */
  private intent() {
    if (!this.disposed) this.intentAt = this.clock.now();
  }

  connect() {
    this.intent();
    this.track('connect', this.setup.connectTimeoutMs, this.client.connect());
  }

  request(timeoutMs: number | undefined, withAbort: boolean) {
    this.intent();
    const abort = withAbort ? new AbortController() : undefined;
    const p = this.client.request(
      'probe',
      { n: this.nextId },
      { timeoutMs, signal: abort?.signal },
    );
    this.track('request', timeoutMs ?? this.setup.requestTimeoutMs, p, abort);
  }

  emit(confirm: boolean, timeoutMs: number | undefined) {
    this.intent();
    this.track(
      'emit',
      timeoutMs ?? this.setup.requestTimeoutMs,
      this.client.emit('note', { n: this.nextId }, { confirm, timeoutMs }),
    );
  }

  abort(i: number) {
    const pending = this.calls.filter((c) => c.abort && !c.settled);
    pending[i % Math.max(1, pending.length)]?.abort?.abort();
  }

  subscribe() {
    if (this.disposed) return;
    if (!this.socket()) this.intent(); // the first use connects lazily; later ones only subscribe
    this.subscriptions.push(this.client.on('ask', () => this.answer()));
  }

  unsubscribe() {
    this.subscriptions.shift()?.();
  }

  private answer(): unknown {
    switch (this.answerMode) {
      case 'value':
        return { fine: true };
      case 'throw':
        throw new Error('subscriber exploded');
      case 'reject':
        return Promise.reject(new Error('subscriber rejected'));
      case 'cycle': {
        const a: Record<string, unknown> = {};
        a.self = a;
        return a;
      }
    }
  }

  /** Runs a user command that may close the socket itself. */
  private user(act: () => void) {
    this.userAct = true;
    try {
      act();
    } finally {
      this.userAct = false;
    }
  }

  reconnect() {
    this.intent();
    this.user(() =>
      this.track(
        'connect',
        this.setup.connectTimeoutMs,
        this.client.reconnect({ refreshAuth: this.rand() < 0.5 }),
      ),
    );
  }

  disconnect() {
    this.manualAt = this.clock.now();
    this.user(() => this.client.disconnect());
  }

  dispose() {
    this.disposed = true;
    this.user(() => this.client.dispose());
  }

  // ---- the server ----
  serverConnect() {
    // Socket.IO delivers what the server emitted in its connect handler before `connect`.
    serverConnect(this, (s) => {
      if (s.transport) {
        s.transport.wsBlocked = this.wsBlocked;
        this.conn = { polledFirst: s.transport.order[0] === 'polling', probeOk: false };
      }
      s.onClientDisconnect ??= () => this.closedByClient(s);
      s.serverEmit(
        'server_restart',
        envelope({ runtimeId: `R${this.runtime}`, emittedAt: '2026-11-23T12:00:00.000Z' }),
      );
    });
  }

  // ---- the network's transports ----
  /** A proxy starts or stops refusing WebSockets; starting resets the WebSocket open now. */
  blockWebSockets(on: boolean) {
    this.wsBlocked = on;
    const s = this.socket();
    if (on && s?.connected && s.transport?.name === 'websocket') s.drop('transport close');
  }

  /** Engine.IO's own upgrade, right after a connection opened on long-polling first. */
  engineUpgrade() {
    const s = this.socket();
    const t = s?.transport;
    if (!s?.connected || t?.name !== 'polling' || this.wsBlocked || !this.conn.polledFirst) return;
    t.upgrade('websocket');
  }

  /** Time passes until the client has a WebSocket probe in flight (at most one probe delay). */
  async untilProbe() {
    const end = this.clock.now() + this.setup.probe.maxMs + 1;
    while (!this.socket()?.transport?.open().length && this.clock.now() < end)
      await this.clock.advance(Math.min(50, end - this.clock.now()));
  }

  /** The network answers the WebSocket probe in flight. */
  answerProbe(ok: boolean) {
    const t = this.socket()?.transport;
    if (t?.answer(ok) && ok) this.conn.probeOk = true;
  }

  /** The client closed its socket: outside a user command, only a move back to WebSocket may. */
  private closedByClient(s: FakeSocket) {
    if (this.userAct || !s.connected) return;
    const busy = this.calls.filter((c) => c.kind !== 'connect' && !c.settled);
    if (busy.length)
      this.violate(
        `moved with ${busy.length} calls in flight (${busy.map((c) => `#${c.id}`).join(', ')})`,
      );
    if (s.transport?.name === 'websocket') this.violate('moved a connection already on WebSocket');
    if (!this.conn.probeOk) this.violate('moved without a probe that opened on this connection');
  }

  serverReject(kind: 'rejected' | 'transport' | 'namespace') {
    const s = this.socket();
    if (!s || !s.active || s.connected || this.authing.has(s)) return;
    if (kind === 'namespace') {
      this.terminal = true;
      s.reject('UNKNOWN_NAMESPACE', {
        code: 'UNKNOWN_NAMESPACE',
        namespace: '/dev_websocket_test',
      });
    } else if (kind === 'rejected')
      s.reject('Connection rejected by server', { code: 'CSRF_INVALID' });
    else s.transportError('xhr poll error');
  }

  giveUp() {
    const s = this.socket();
    if (!s || !s.active || s.connected || s.gaveUp || this.authing.has(s)) return;
    this.gaveUpAt = this.clock.now();
    s.giveUp();
  }

  drop(reason: string) {
    const s = this.socket();
    if (s?.connected) s.drop(reason);
  }

  restart() {
    this.tokenGen++;
    this.runtime++;
    this.drop('transport close');
  }

  /** The server acknowledges one of the client's events. */
  ack(i: number, how: 'ok' | 'error' | 'malformed' | 'twice') {
    const s = this.socket();
    if (!s?.connected) return;
    const open = s.sent.filter((m) => m.ack && m.conn === s.connections && !this.acked.has(m));
    const m = open[i % Math.max(1, open.length)];
    if (!m?.ack) return;
    this.acked.add(m);
    const cid = (m.payload as { correlationId: string }).correlationId;
    const ok = {
      correlationId: cid,
      results: [{ handlerId: 'sim.Probe', ok: true, data: { echo: true } }],
    };
    if (how === 'malformed') return m.ack({ results: 'nope' });
    if (how === 'error')
      return m.ack({
        correlationId: cid,
        results: [
          { handlerId: 'sim.Probe', ok: false, error: { code: 'HANDLER_ERROR', error: 'no' } },
        ],
      });
    m.ack(ok);
    if (how === 'twice') m.ack(ok);
  }

  /** The server sends an event, or a request (with an ack) that subscribers answer. */
  serverEvent(withAck: boolean) {
    const s = this.socket();
    if (!s?.connected) return;
    const env = envelope({ q: 1 });
    if (!withAck) return s.serverEmit('ask', env);
    const record = { answers: [] as unknown[] };
    this.serverRequests.set(env.correlationId, record);
    s.serverEmit('ask', env, (answer: unknown) => void record.answers.push(answer));
  }

  // ---- invariants ----
  check() {
    const now = this.clock.now();
    for (const c of this.calls) {
      if (c.settled > 1) this.violate(`${c.kind} #${c.id} settled ${c.settled} times`);
      if (!c.settled && now - c.at > c.timeoutMs)
        this.violate(
          `${c.kind} #${c.id} still pending ${now - c.at} ms after the call (deadline ${c.timeoutMs} ms)`,
        );
    }
    for (const [id, r] of this.serverRequests) {
      if (r.answers.length > 1)
        this.violate(`server request ${id} answered ${r.answers.length} times`);
      for (const a of r.answers) {
        const results = (a as { results?: unknown }).results;
        if (!Array.isArray(results) || !results.length)
          this.violate(`server request ${id} answered without results`);
        // Socket.IO must serialise the answer: one it cannot (a cycle) throws inside its encoder.
        try {
          JSON.stringify(a);
        } catch {
          this.violate(`server request ${id} answered with something Socket.IO cannot serialise`);
        }
      }
    }
    // At most one WebSocket probe in flight, and only on a live connection on long-polling.
    const probing = this.factory.sockets.flatMap((x) => (x.transport?.open() ?? []).map(() => x));
    if (probing.length > 1) this.violate(`${probing.length} WebSocket probes in flight`);
    for (const x of probing)
      if (x !== this.socket() || !x.connected || x.transport?.name === 'websocket')
        this.violate(
          `a WebSocket probe in flight on a ${x.connected ? x.transport?.name : 'closed'} connection`,
        );
    // A connection that is wanted and possible is always being worked on.
    const s = this.socket();
    const wanted =
      this.intentAt >= 0 && this.intentAt > this.manualAt && !this.disposed && !this.terminal;
    // After the Manager gave up, only a new call asks again: idle until then is correct.
    const idleByDesign = !!s?.gaveUp && this.intentAt <= this.gaveUpAt;
    const trying = !!s && (s.connected || (s.active && !s.gaveUp));
    if (wanted && !idleByDesign && !trying) {
      this.stuckSince ??= now;
      // The retry after a rejection (never sooner than 50 ms, so a tiny maxMs cannot spin), then the auth call.
      const bound = Math.max(this.setup.retry.maxMs, 50) + this.setup.authTimeoutMs + 1;
      if (now - this.stuckSince > bound) {
        this.violate(
          `no connection attempt for ${now - this.stuckSince} ms although one is wanted (bound ${bound} ms)`,
        );
        this.stuckSince = now;
      }
    } else this.stuckSince = null;
  }

  /** The end: dispose, then nothing may be left. */
  finish() {
    this.dispose();
  }
}
