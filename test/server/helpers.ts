// Shared helpers for the reference-server suites. They talk to the server with the
// raw socket.io-client (never the syncwire client) and node:http, so these tests
// check the server's wire behaviour on its own.
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import { io, type Socket, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import {
  createReferenceServer,
  type ReferenceServer,
  type ReferenceServerOptions,
} from '../../demo/server/reference-server.mjs';
import type { Envelope, Aggregate } from '../../demo/server/manager.mjs';
import type { Snapshot } from '../../demo/server/world.mjs';

export type { ReferenceServer, Envelope, Aggregate, Snapshot };

export interface PushData {
  runtime_epoch: string;
  seq: number;
  snapshot: Snapshot;
}
export type PushEnvelope = Omit<Envelope, 'data'> & { data: PushData };

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Tracks servers and sockets so each test cleans up everything it opened. */
export class Harness {
  servers: ReferenceServer[] = [];
  sockets: Socket[] = [];

  async start(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
    const server = await createReferenceServer({ port: 0, host: '127.0.0.1', ...options });
    this.servers.push(server);
    return server;
  }

  /** A socket that is not connected yet (autoConnect off), websocket only, fast reconnects. */
  socket(
    server: ReferenceServer,
    namespace: string,
    opts: Partial<ManagerOptions & SocketOptions> = {},
  ): Socket {
    const socket = io(server.url + namespace, {
      transports: ['websocket'],
      autoConnect: false,
      forceNew: true,
      reconnectionDelay: 20,
      reconnectionDelayMax: 40,
      ...opts,
    });
    this.sockets.push(socket);
    return socket;
  }

  /** Fetches a fresh CSRF token and connects; resolves once connected. */
  async connect(
    server: ReferenceServer,
    namespace: string,
    opts: Partial<ManagerOptions & SocketOptions> = {},
  ): Promise<Socket> {
    const token = await csrfToken(server);
    const socket = this.socket(server, namespace, { auth: { csrf_token: token }, ...opts });
    const connected = once<void>(socket, 'connect');
    socket.connect();
    await connected;
    return socket;
  }

  async cleanup(): Promise<void> {
    for (const s of this.sockets.splice(0)) s.close();
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
  }
}

export async function csrfToken(server: ReferenceServer): Promise<string> {
  const res = await fetch(server.url + '/csrf_token');
  const body = (await res.json()) as { ok: boolean; token: string; runtime_id: string };
  return body.token;
}

/** Resolves with the first argument of the next `event` (or rejects on connect_error when waiting for connect). */
export function once<T = unknown>(socket: Socket, event: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onEvent = (value: T) => {
      cleanup();
      resolve(value);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      socket.off(event, onEvent);
      if (event === 'connect') socket.off('connect_error', onError);
    };
    socket.on(event, onEvent);
    if (event === 'connect') socket.on('connect_error', onError);
  });
}

/** Resolves with the connect_error of the next connect attempt. */
export function connectError(socket: Socket): Promise<Error & { data?: unknown }> {
  return new Promise((resolve, reject) => {
    socket.once('connect_error', (err) => resolve(err as Error & { data?: unknown }));
    socket.once('connect', () => reject(new Error('connected unexpectedly')));
  });
}

/** The client payload wrapper Agent Zero's websocket.js sends. */
export function wrap(data: Record<string, unknown>, correlationId?: string) {
  return { ts: new Date().toISOString(), data, ...(correlationId ? { correlationId } : {}) };
}

export function request(
  socket: Socket,
  event: string,
  data: Record<string, unknown>,
  correlationId?: string,
): Promise<Aggregate> {
  return socket.timeout(5000).emitWithAck(event, wrap(data, correlationId)) as Promise<Aggregate>;
}

/** The data of a successful result item (fails the test when the item is an error). */
export function okData<T = Record<string, unknown>>(ack: Aggregate, index = 0): T {
  const item = ack.results[index];
  expect(item?.ok).toBe(true);
  return (item as { data: T }).data;
}

export function expectEnvelope(env: unknown): asserts env is Envelope {
  const e = env as Envelope;
  expect(Object.keys(e).sort()).toEqual(['correlationId', 'data', 'eventId', 'handlerId', 'ts']);
  expect(typeof e.handlerId).toBe('string');
  expect(e.handlerId.length).toBeGreaterThan(0);
  expect(e.eventId).toMatch(UUID);
  expect(typeof e.correlationId).toBe('string');
  expect(e.correlationId.length).toBeGreaterThan(0);
  expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(Number.isNaN(Date.parse(e.ts))).toBe(false);
  expect(typeof e.data === 'object' && e.data !== null && !Array.isArray(e.data)).toBe(true);
}

/** Records every state_push and lets a test wait for the next ones without sleeping. */
export class PushLog {
  pushes: PushEnvelope[] = [];
  times: number[] = [];
  private waiters: Array<{ count: number; resolve: (p: PushEnvelope[]) => void }> = [];

  constructor(socket: Socket) {
    socket.on('state_push', (env: PushEnvelope) => {
      this.pushes.push(env);
      this.times.push(performance.now());
      this.waiters = this.waiters.filter((w) => {
        if (this.pushes.length < w.count) return true;
        w.resolve(this.pushes.slice(0, w.count));
        return false;
      });
    });
  }

  /** Resolves when at least `count` pushes have arrived in total. */
  waitForTotal(count: number): Promise<PushEnvelope[]> {
    if (this.pushes.length >= count) return Promise.resolve(this.pushes.slice(0, count));
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Resolves with the next push after the ones seen so far. */
  async next(): Promise<PushEnvelope> {
    const all = await this.waitForTotal(this.pushes.length + 1);
    return all[all.length - 1] as PushEnvelope;
  }

  get seqs(): number[] {
    return this.pushes.map((p) => p.data.seq);
  }
}

export const STATE_REQUEST = { context: null, log_from: 0, notifications_from: 0, timezone: 'UTC' };

/** Connects to /state_sync, handshakes and waits for the initial push (seq 2). */
export async function syncedSocket(
  h: Harness,
  server: ReferenceServer,
  data: Record<string, unknown> = STATE_REQUEST,
) {
  const socket = await h.connect(server, '/state_sync');
  const pushes = new PushLog(socket);
  const ack = await request(socket, 'state_request', data);
  const first = await pushes.next();
  return { socket, pushes, ack, first };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A raw HTTP request with exact headers (fetch in DOM environments forbids Cookie and adds CORS rules). */
export function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const body =
      opts.body === undefined
        ? undefined
        : typeof opts.body === 'string'
          ? opts.body
          : JSON.stringify(opts.body);
    // Split by hand: new URL() would normalise '/../x' and hide traversal attempts.
    const m = /^http:\/\/([^/:]+):(\d+)(.*)$/.exec(url);
    if (!m) throw new Error(`bad url ${url}`);
    const req = httpRequest(
      {
        host: m[1],
        port: Number(m[2]),
        path: m[3] || '/',
        method: opts.method ?? 'GET',
        headers: {
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...opts.headers,
          Connection: 'close',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = undefined;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
