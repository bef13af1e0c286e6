// The fault proxy itself, checked with a real socket.io client and server (and raw
// HTTP for reorder). The server here is our own, with short Engine.IO ping timings,
// so a half-open connection is detected in well under a second.
import { createServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { createFaultProxy, type FaultProxy } from '../../chaos/fault-proxy.mjs';
import { waitFor } from '../helpers/wait';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A socket.io server: `echo` acks its argument, `tick` is emitted every 25 ms while ticking. */
async function ioServer(opts: { pingInterval?: number; pingTimeout?: number } = {}) {
  const http = createServer();
  const server = new Server(http, {
    pingInterval: opts.pingInterval ?? 25000,
    pingTimeout: opts.pingTimeout ?? 20000,
    maxHttpBufferSize: 1e7,
  });
  server.on('connection', (socket) => {
    socket.on('echo', (value: unknown, ack?: (v: unknown) => void) => ack?.(value));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as net.AddressInfo).port;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const s = {
    url: `http://127.0.0.1:${port}`,
    io: server,
    startTicking() {
      let n = 0;
      ticker = setInterval(() => server.emit('tick', ++n), 25);
    },
    async close() {
      if (ticker) clearInterval(ticker);
      const done = server.close();
      http.closeAllConnections();
      await done.catch(() => {});
    },
  };
  cleanups.push(() => s.close());
  return s;
}

async function proxyTo(url: string, opts: { reorderHoldMs?: number } = {}): Promise<FaultProxy> {
  const proxy = await createFaultProxy({ target: url, ...opts });
  cleanups.push(() => proxy.close());
  return proxy;
}

function client(url: string, opts: Parameters<typeof io>[1] = {}): Socket {
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    ...opts,
  });
  cleanups.push(() => socket.close());
  return socket;
}

const connected = (s: Socket) =>
  s.connected ? Promise.resolve() : new Promise<void>((r) => s.once('connect', () => r()));
const echo = (s: Socket, v: unknown) => s.timeout(10000).emitWithAck('echo', v) as Promise<unknown>;

describe('fault proxy', () => {
  it('forwards traffic both ways', async () => {
    const server = await ioServer();
    const proxy = await proxyTo(server.url);
    const s = client(proxy.url);
    await connected(s);
    expect(await echo(s, { hello: 'world' })).toEqual({ hello: 'world' });
    const [conn] = proxy.connections();
    expect(conn).toMatchObject({ kind: 'websocket' });
    expect(conn!.bytesUp).toBeGreaterThan(0);
    expect(conn!.bytesDown).toBeGreaterThan(0);
  });

  it.each(['rst', 'fin'] as const)(
    'cut (%s): the client sees a disconnect and reconnects',
    async (mode) => {
      const server = await ioServer();
      const proxy = await proxyTo(server.url);
      const s = client(proxy.url);
      await connected(s);
      const reasons: string[] = [];
      s.on('disconnect', (r) => reasons.push(r));
      expect(proxy.cut({ mode })).toBe(1);
      await waitFor(() => reasons.length === 1);
      expect(reasons[0]).toMatch(/^transport (close|error)$/);
      await waitFor(() => s.connected, 5000);
      expect(await echo(s, 1)).toBe(1);
      expect(proxy.stats().cuts).toBe(1);
    },
  );

  it.each(['rst', 'fin'] as const)(
    'cut (%s) at the TCP level: a reset is ECONNRESET, a FIN an orderly end',
    async (mode) => {
      const echoServer = net.createServer((c) => {
        c.on('error', () => {});
        c.pipe(c);
      });
      await new Promise<void>((r) => echoServer.listen(0, '127.0.0.1', r));
      cleanups.push(() => new Promise((r) => echoServer.close(r)));
      const proxy = await proxyTo(
        `http://127.0.0.1:${(echoServer.address() as net.AddressInfo).port}`,
      );
      const c = net.connect(proxy.port, '127.0.0.1');
      cleanups.push(() => c.destroy());
      const seen: string[] = [];
      c.on('data', (d: Buffer) => seen.push(d.toString()));
      c.on('end', () => seen.push('FIN'));
      c.on('error', (e: NodeJS.ErrnoException) => seen.push(e.code ?? 'error'));
      c.write('not HTTP, passed through');
      await waitFor(() => seen.length === 1);
      expect(seen).toEqual(['not HTTP, passed through']);
      proxy.cut({ mode });
      await waitFor(() => seen.length === 2);
      expect(seen[1]).toBe(mode === 'rst' ? 'ECONNRESET' : 'FIN');
      expect(proxy.connections()).toEqual([]);
    },
  );

  it('half-open: no byte moves and nothing closes; Engine.IO ping timeout detects it; release recovers', async () => {
    const server = await ioServer({ pingInterval: 300, pingTimeout: 300 });
    server.startTicking();
    const proxy = await proxyTo(server.url);
    const s = client(proxy.url);
    await connected(s);
    const ticks: number[] = [];
    s.on('tick', (n: number) => ticks.push(n));
    await waitFor(() => ticks.length > 2);
    const reasons: string[] = [];
    s.on('disconnect', (r) => reasons.push(r));

    proxy.halfOpen(true);
    await sleep(30); // whatever was already on the wire lands
    const before = proxy.connections();
    const ticksBefore = ticks.length;
    await sleep(150); // the client allows pingInterval + pingTimeout (600 ms) after the last ping
    expect(reasons).toEqual([]);
    expect(ticks.length).toBe(ticksBefore);
    expect(proxy.connections()).toEqual(
      before.map((c) => ({
        ...c,
        ageMs: expect.any(Number) as number,
        queuedDown: expect.any(Number) as number,
      })),
    );
    expect(proxy.connections()[0]!.queuedDown + 0).toBeGreaterThanOrEqual(0);

    await waitFor(() => reasons.length > 0, 3000);
    expect(reasons[0]).toBe('ping timeout');
    // The proxy closed nothing: the old connection is still there, held, and the reconnect is held too.
    expect(proxy.connections().length).toBeGreaterThanOrEqual(1);
    await sleep(200);
    expect(s.connected).toBe(false);

    proxy.halfOpen(false);
    await waitFor(() => s.connected, 5000);
    expect(await echo(s, 'after')).toBe('after');
  });

  it('half-open shorter than the ping timeout: what was sent meanwhile is delivered on release, once', async () => {
    const server = await ioServer({ pingInterval: 2000, pingTimeout: 2000 });
    const proxy = await proxyTo(server.url);
    const s = client(proxy.url);
    await connected(s);
    proxy.halfOpen(true);
    let acked = false;
    const ack = echo(s, 'held').then((v) => {
      acked = true;
      return v;
    });
    await sleep(150);
    expect(acked).toBe(false);
    proxy.halfOpen(false);
    expect(await ack).toBe('held');
    expect(s.connected).toBe(true);
  });

  it('latency delays each direction; throttle limits bandwidth', async () => {
    const server = await ioServer();
    const proxy = await proxyTo(server.url);
    const s = client(proxy.url);
    await connected(s);
    await echo(s, 0);
    const rtt = async (v: unknown) => {
      const t0 = performance.now();
      await echo(s, v);
      return performance.now() - t0;
    };
    expect(await rtt(1)).toBeLessThan(80);
    proxy.latency({ up: 60, down: 90 });
    const slow = await rtt(2);
    expect(slow).toBeGreaterThanOrEqual(145);
    expect(slow).toBeLessThan(600);
    proxy.latency(0);
    await echo(s, 3);
    expect(await rtt(4)).toBeLessThan(80);

    proxy.throttle({ up: 100_000 });
    const big = 'x'.repeat(50_000);
    const t = await rtt(big); // 50 KB up at 100 KB/s
    expect(t).toBeGreaterThanOrEqual(350);
    expect(t).toBeLessThan(3000);
    proxy.throttle(0);
    expect(await rtt(big)).toBeLessThan(300);
  });

  it('reorder: whole HTTP responses of concurrent connections are released newest first, bodies intact', async () => {
    const http: HttpServer = createServer((req, res) => {
      if (req.url === '/a')
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 5 }).end('alpha');
      else
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'text/plain' }); // chunked
          res.write('be');
          res.end('ta');
        }, 40);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => http.close(r)));
    const url = `http://127.0.0.1:${(http.address() as net.AddressInfo).port}`;
    const proxy = await proxyTo(url, { reorderHoldMs: 400 });
    const get = (path: string, order: string[]) =>
      new Promise<string>((resolve, reject) => {
        const req = httpRequest(`${proxy.url}${path}`, { agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            order.push(path);
            resolve(body);
          });
        });
        req.on('error', reject);
        req.end();
      });

    const plain: string[] = [];
    expect(await Promise.all([get('/a', plain), get('/b', plain)])).toEqual(['alpha', 'beta']);
    expect(plain).toEqual(['/a', '/b']);

    proxy.reorder(true);
    const reordered: string[] = [];
    expect(await Promise.all([get('/a', reordered), get('/b', reordered)])).toEqual([
      'alpha',
      'beta',
    ]);
    expect(reordered).toEqual(['/b', '/a']);
    expect(proxy.stats().reordered).toBe(1);

    // A lone response waits at most holdMs.
    proxy.reorder(true, { holdMs: 30 });
    const t0 = performance.now();
    expect(await get('/a', [])).toBe('alpha');
    expect(performance.now() - t0).toBeLessThan(300);
  });

  it('socket.io over long-polling stays intact while responses are reordered', async () => {
    const server = await ioServer();
    const proxy = await proxyTo(server.url, { reorderHoldMs: 20 });
    proxy.reorder(true);
    const s = client(proxy.url, { transports: ['polling'] });
    await connected(s);
    const got = await Promise.all(
      Array.from({ length: 30 }, (_, i) => echo(s, { i, text: 'é'.repeat(i * 10) })),
    );
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => ({ i, text: 'é'.repeat(i * 10) })));
    expect(proxy.connections().every((c) => c.kind === 'http')).toBe(true);
  });

  it.each([['websocket'], ['polling']] as const)(
    'loses and duplicates nothing while latency, throttle and reorder change under load (%s)',
    async (transport) => {
      const server = await ioServer();
      const seen = new Map<number, number>();
      server.io.on('connection', (socket) =>
        socket.on('count', (n: number, ack?: () => void) => {
          seen.set(n, (seen.get(n) ?? 0) + 1);
          ack?.();
        }),
      );
      const proxy = await proxyTo(server.url, { reorderHoldMs: 15 });
      const s = client(proxy.url, { transports: [transport] });
      await connected(s);
      const N = 300;
      const acks: Promise<unknown>[] = [];
      for (let n = 0; n < N; n++) {
        if (n % 50 === 0) {
          const k = n / 50;
          proxy.latency({ up: (k % 3) * 20, down: (k % 2) * 30 });
          proxy.throttle(k % 2 ? 200_000 : 0);
          proxy.reorder(k % 2 === 0);
        }
        acks.push(s.timeout(10_000).emitWithAck('count', n));
        if (n % 10 === 0) await sleep(5);
      }
      await Promise.all(acks);
      proxy.reset();
      expect(seen.size).toBe(N);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
    },
  );

  it('blockWebSockets: upgrades get 403, the client falls back to long-polling; open WebSockets are reset', async () => {
    const server = await ioServer();
    const proxy = await proxyTo(server.url);
    const ws = client(proxy.url);
    await connected(ws);
    const reasons: string[] = [];
    ws.on('disconnect', (r) => reasons.push(r));
    proxy.blockWebSockets(true);
    await waitFor(() => reasons.length === 1);

    const s = client(proxy.url, { transports: ['websocket', 'polling'], tryAllTransports: true });
    await connected(s);
    expect(s.io.engine.transport.name).toBe('polling');
    expect(await echo(s, 'via polling')).toBe('via polling');
    expect(proxy.stats().blockedUpgrades).toBeGreaterThanOrEqual(1);
    proxy.blockWebSockets(false);
    await waitFor(() => ws.connected, 5000);
  });

  it('refuse: new connections are reset; open ones stay', async () => {
    const server = await ioServer();
    const proxy = await proxyTo(server.url);
    const s = client(proxy.url);
    await connected(s);
    proxy.refuse(true);
    const err = await new Promise<Error>((resolve) => {
      const c = net.connect(proxy.port, '127.0.0.1');
      c.on('error', resolve);
      c.on('close', () => resolve(new Error('closed')));
    });
    expect(err.message).toMatch(/ECONNRESET|closed/);
    expect(await echo(s, 'still here')).toBe('still here');
    expect(proxy.stats().refused).toBe(1);
  });

  it('close() closes the listener and every socket', async () => {
    const count = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap')
        .length;
    const baseline = count();
    const server = await ioServer();
    const proxy = await createFaultProxy({ target: server.url });
    const s = client(proxy.url, { reconnection: false });
    await connected(s);
    proxy.halfOpen(true); // even held connections
    const gone = new Promise<string>((r) => s.once('disconnect', r));
    await proxy.close();
    expect(proxy.connections()).toEqual([]);
    expect(await gone).toMatch(/transport/);
    const refused = await new Promise<string>((resolve) => {
      const c = net.connect(proxy.port, '127.0.0.1');
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      c.on('connect', () => {
        c.destroy();
        resolve('connected');
      });
    });
    expect(refused).toBe('ECONNREFUSED');
    s.close();
    await server.close();
    await waitFor(() => count() <= baseline, 3000);
  });
});
