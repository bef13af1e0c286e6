// A TCP fault proxy for reliability tests: it sits on 127.0.0.1 (port 0) between a
// client and a server and can break the network in the ways a real one breaks.
//
//   const proxy = await createFaultProxy({ target: server.url });
//   const client = createNamespacedClient('/state_sync', { url: proxy.url });
//   proxy.cut({ mode: 'rst' });      // every connection reset
//   proxy.halfOpen(true);            // nothing moves, nothing closes
//   proxy.latency({ down: 150 });    // server → client 150 ms later
//   proxy.throttle(20_000);          // 20 KB/s each way
//   proxy.reorder(true);             // whole HTTP responses overtake each other
//   await proxy.close();             // no socket, timer or listener left
//
// What each fault means at the TCP level
// --------------------------------------
// cut       Every open connection is closed on both sides at once: `rst` sends a TCP
//           RST (socket.resetAndDestroy(): the peer sees ECONNRESET), `fin` a normal
//           FIN (socket.end(): the peer sees an orderly close). Bytes still queued
//           inside the proxy (latency, throttle, reorder, half-open) are thrown away,
//           like the contents of a cut cable. New connections are accepted as usual.
// halfOpen  Both directions of every connection stop: the proxy stops reading its
//           sockets (so TCP flow control soon stops the senders too), writes nothing
//           and closes nothing: no FIN, no RST, no data. Connections opened while it is
//           on are accepted and held the same way. A FIN or RST that arrives meanwhile
//           is held too and forwarded on release, like a partition that heals: TCP
//           would retransmit what was sent, so held bytes are delivered on release.
// latency   Each chunk is forwarded `ms` after it arrived, per direction; order is kept
//           (a chunk never leaves before an earlier one), so a latency decrease takes
//           effect only once older chunks have left.
// throttle  A token bucket per connection and direction (bytes per second). The proxy
//           stops reading a socket while more than 256 KiB wait for it, so a throttled
//           sender sees real TCP back-pressure instead of an unbounded proxy buffer.
// reorder   Bytes inside one TCP stream can not be reordered without corrupting the
//           stream, and TCP itself never reorders them, so "reorder" here means: the
//           proxy parses HTTP/1.1 on every connection (Content-Length and chunked
//           bodies), buffers each *complete* HTTP response, and releases the buffered
//           responses of *different* connections newest first, as soon as two
//           connections have one waiting (or after `holdMs` for a lone one), 5 ms
//           apart so the client really reads them in that order. Responses
//           of one connection keep their order (HTTP/1.1 requires it). So concurrent
//           Engine.IO long-polling requests (the GET and the POST), /poll and
//           /csrf_token answers arrive out of order with respect to each other, exactly
//           as they can behind a real proxy with several upstream connections. After
//           an upgrade (101 Switching Protocols, i.e. a WebSocket) a connection is an
//           opaque byte stream and is never reordered; neither is a response without
//           a length (read until close).
// blockWebSockets  Like a corporate proxy that refuses upgrades: an HTTP request with
//           `Upgrade: websocket` is answered 403 and closed; turning it on also resets
//           the connections that were already upgraded. Long-polling still works.
// refuse    New connections are reset as soon as they are accepted (the server looks
//           down); open connections are left alone.
//
// Plain ESM with JSDoc types, usable from vitest suites and from plain Node scripts.
import net from 'node:net';
import { setTimeout, clearTimeout } from 'node:timers';

/**
 * @typedef {'up' | 'down'} Direction up = client → server, down = server → client
 *
 * @typedef {object} FaultProxyOptions
 * @property {string | { host?: string, port: number }} target e.g. 'http://127.0.0.1:8787', or { host, port }
 * @property {string} [host] where the proxy listens; default '127.0.0.1'
 * @property {number} [reorderHoldMs] how long a lone complete response waits for company; default 40
 *
 * @typedef {object} ConnectionInfo
 * @property {number} id
 * @property {'http' | 'websocket' | 'opaque'} kind opaque: a response without length, or bytes that are not HTTP
 * @property {number} bytesUp bytes forwarded client → server
 * @property {number} bytesDown bytes forwarded server → client
 * @property {number} queuedUp bytes waiting inside the proxy, client → server
 * @property {number} queuedDown bytes waiting inside the proxy, server → client
 * @property {number} ageMs
 *
 * @typedef {object} FaultProxyStats
 * @property {number} accepted connections accepted so far
 * @property {number} cuts connections closed by cut()
 * @property {number} refused connections reset by refuse()
 * @property {number} blockedUpgrades WebSocket upgrades answered 403
 * @property {number} reordered responses released before one that arrived earlier
 * @property {number} bytesUp
 * @property {number} bytesDown
 *
 * @typedef {object} FaultProxy
 * @property {string} url http://127.0.0.1:<port>
 * @property {number} port
 * @property {(opts?: { mode?: 'rst' | 'fin' }) => number} cut closes every open connection; returns how many
 * @property {(on?: boolean) => void} halfOpen holds every connection (and new ones) without closing them
 * @property {(ms: number | { up?: number, down?: number }) => void} latency per direction; a number sets both
 * @property {(bytesPerSec: number | { up?: number, down?: number }) => void} throttle 0 or Infinity = off
 * @property {(on?: boolean, opts?: { holdMs?: number }) => void} reorder
 * @property {(on?: boolean) => void} blockWebSockets
 * @property {(on?: boolean) => void} refuse
 * @property {() => void} reset every fault off; held and reordered bytes are released, not dropped
 * @property {() => ConnectionInfo[]} connections the connections open now
 * @property {() => FaultProxyStats} stats
 * @property {() => Promise<void>} close closes the listener and every socket; resolves when all are closed
 */

const HIGH_WATER = 256 * 1024;
const REORDER_GAP_MS = 5;
const MAX_HEAD = 64 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const FORBIDDEN = Buffer.from(
  'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 29\r\nConnection: close\r\n\r\nWebSockets blocked by proxy\r\n',
);

/**
 * Splits one direction of an HTTP/1.1 connection into messages without copying
 * more than the unparsed tail. push() returns the bytes it can pass on now, with
 * `end: true` on the piece that completes a message. After an upgrade, or on bytes
 * it does not understand, it turns `raw` and passes everything through.
 */
class HttpSegmenter {
  /** @param {'request' | 'response'} kind @param {(head: { upgrade: boolean, status: number }) => void} onHead */
  constructor(kind, onHead) {
    this.kind = kind;
    this.onHead = onHead;
    /** @type {'head' | 'body' | 'chunk-size' | 'chunk-data' | 'trailers' | 'raw'} */
    this.mode = 'head';
    this.buf = Buffer.alloc(0);
    this.remaining = 0;
    /** why the stream turned raw: 'upgrade' or 'opaque' */
    this.rawReason = '';
  }

  /** @param {Buffer} chunk @returns {{ buf: Buffer, end: boolean }[]} */
  push(chunk) {
    if (this.mode === 'raw') return [{ buf: chunk, end: false }];
    const buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    /** @type {{ buf: Buffer, end: boolean }[]} */
    const out = [];
    let start = 0;
    let i = 0;
    const endMessage = () => {
      out.push({ buf: buf.subarray(start, i), end: true });
      start = i;
      this.mode = 'head';
    };
    parse: while (i < buf.length) {
      switch (this.mode) {
        case 'head': {
          if (!looksLikeStart(buf.subarray(i, i + 16).toString('latin1'), this.kind)) {
            this.toRaw('opaque');
            i = buf.length;
            break parse;
          }
          const at = buf.indexOf(CRLF2, i);
          if (at < 0) {
            if (buf.length - i > MAX_HEAD) this.toRaw('opaque');
            if (this.mode === 'raw') i = buf.length;
            break parse;
          }
          const head = parseHead(buf.subarray(i, at).toString('latin1'), this.kind);
          i = at + 4;
          if (!head) {
            this.toRaw('opaque');
            i = buf.length;
            break parse;
          }
          this.onHead({ upgrade: head.upgrade, status: head.status });
          if (this.kind === 'request' && head.upgrade) {
            this.toRaw('upgrade');
            i = buf.length;
            break parse;
          }
          if (this.kind === 'response' && head.status === 101) {
            endMessage();
            this.toRaw('upgrade');
            if (i < buf.length) out.push({ buf: buf.subarray(i), end: false });
            this.buf = Buffer.alloc(0);
            return out;
          }
          if (head.chunked) this.mode = 'chunk-size';
          else if (head.length !== null) {
            this.remaining = head.length;
            this.mode = 'body';
            if (this.remaining === 0) endMessage();
          } else if (this.kind === 'response' && !head.noBody) {
            // Read until close: no boundary to keep, so nothing to reorder.
            this.toRaw('opaque');
            i = buf.length;
            break parse;
          } else endMessage();
          break;
        }
        case 'body':
        case 'chunk-data': {
          const take = Math.min(this.remaining, buf.length - i);
          i += take;
          this.remaining -= take;
          if (this.remaining > 0) break parse;
          if (this.mode === 'body') endMessage();
          else this.mode = 'chunk-size';
          break;
        }
        case 'chunk-size': {
          const at = buf.indexOf(CRLF, i);
          if (at < 0) break parse;
          const size = parseInt(buf.subarray(i, at).toString('latin1').split(';')[0] ?? '', 16);
          i = at + 2;
          if (!Number.isFinite(size) || size < 0) {
            this.toRaw('opaque');
            i = buf.length;
            break parse;
          }
          if (size === 0) this.mode = 'trailers';
          else {
            this.remaining = size + 2; // the data and its CRLF
            this.mode = 'chunk-data';
          }
          break;
        }
        case 'trailers': {
          const at = buf.indexOf(CRLF, i);
          if (at < 0) break parse;
          const empty = at === i;
          i = at + 2;
          if (empty) endMessage();
          break;
        }
        default:
          i = buf.length;
      }
    }
    if (i > start) out.push({ buf: buf.subarray(start, i), end: false });
    this.buf = i < buf.length ? Buffer.from(buf.subarray(i)) : Buffer.alloc(0);
    return out;
  }

  /** @param {string} reason */
  toRaw(reason) {
    this.mode = 'raw';
    this.rawReason = reason;
  }

  /** Bytes held back because a head or chunk line is incomplete (released raw at the end). */
  takeRest() {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }
}

/**
 * Could `prefix` be the start of an HTTP/1.x request or status line? Anything else
 * (TLS, a raw protocol) is passed through untouched.
 * @param {string} prefix @param {'request' | 'response'} kind
 */
function looksLikeStart(prefix, kind) {
  if (kind === 'response')
    return prefix.length >= 5 ? prefix.startsWith('HTTP/') : 'HTTP/'.startsWith(prefix);
  return /^[A-Z]{1,10}( |$)/.test(prefix);
}

/**
 * @param {string} text the head without its final CRLFCRLF
 * @param {'request' | 'response'} kind
 * @returns {{ status: number, upgrade: boolean, chunked: boolean, length: number | null, noBody: boolean } | null}
 */
function parseHead(text, kind) {
  const lines = text.split('\r\n');
  const first = lines[0] ?? '';
  let status = 0;
  if (kind === 'response') {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(first);
    if (!m) return null;
    status = Number(m[1]);
  } else if (!/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(first)) return null;
  /** @type {Record<string, string>} */
  const h = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) h[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  const upgrade = kind === 'request' ? /websocket/i.test(h.upgrade ?? '') : status === 101;
  const chunked = /chunked/i.test(h['transfer-encoding'] ?? '');
  const len = h['content-length'] !== undefined ? Number(h['content-length']) : null;
  const noBody =
    kind === 'response' && ((status >= 100 && status < 200) || status === 204 || status === 304);
  return {
    status,
    upgrade,
    chunked,
    length: len !== null && Number.isInteger(len) && len >= 0 ? len : null,
    noBody,
  };
}

/**
 * @param {FaultProxyOptions} options
 * @returns {Promise<FaultProxy>}
 */
export async function createFaultProxy(options) {
  const target = parseTarget(options.target);
  const host = options.host ?? '127.0.0.1';
  const faults = {
    halfOpen: false,
    latency: { up: 0, down: 0 },
    throttle: { up: 0, down: 0 },
    reorder: false,
    reorderHoldMs: options.reorderHoldMs ?? 40,
    blockWebSockets: false,
    refuse: false,
  };
  /** @type {FaultProxyStats} */
  const stats = {
    accepted: 0,
    cuts: 0,
    refused: 0,
    blockedUpgrades: 0,
    reordered: 0,
    bytesUp: 0,
    bytesDown: 0,
  };
  /** @type {Map<number, Conn>} */
  const conns = new Map();
  /** Every socket the proxy owns, so close() can wait for each one. @type {Set<net.Socket>} */
  const sockets = new Set();
  let nextId = 1;
  let closed = false;

  // ---- the reorder pool: complete responses of several connections ----
  /** @type {{ conn: Conn, buf: Buffer, at: number, seq: number }[]} */
  let pool = [];
  let poolSeq = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let poolTimer = null;

  /** Releases the pool: connections whose newest response arrived last go first. @param {boolean} inOrder */
  function releasePool(inOrder) {
    if (poolTimer) clearTimeout(poolTimer);
    poolTimer = null;
    const entries = pool;
    pool = [];
    if (!entries.length) return;
    /** @type {Map<Conn, { last: number, items: typeof entries }>} */
    const by = new Map();
    for (const e of entries) {
      const g = by.get(e.conn) ?? { last: 0, items: [] };
      g.items.push(e);
      g.last = Math.max(g.last, e.seq);
      by.set(e.conn, g);
    }
    const groups = [...by.values()].sort((a, b) => (inOrder ? a.last - b.last : b.last - a.last));
    let maxSent = -1;
    // A few ms between connections, so the client really sees them in this order (two
    // sockets that become readable in the same instant are handled in no defined order).
    let gap = 0;
    for (const g of groups) {
      for (const e of g.items) {
        if (e.seq < maxSent) stats.reordered += 1;
        maxSent = Math.max(maxSent, e.seq);
        if (!e.conn.dead) e.conn.down.enqueue(e.buf, gap);
      }
      gap += inOrder ? 0 : REORDER_GAP_MS;
      const first = g.items[0];
      if (first) first.conn.pooled = false;
    }
    for (const g of groups) g.items[0]?.conn.flushAfterPool();
  }

  /** @param {Conn} conn @param {Buffer} buf */
  function addToPool(conn, buf) {
    pool.push({ conn, buf, at: Date.now(), seq: poolSeq++ });
    conn.pooled = true;
    const distinct = new Set(pool.map((e) => e.conn)).size;
    if (distinct >= 2) releasePool(false);
    else if (!poolTimer) {
      poolTimer = setTimeout(() => releasePool(true), faults.reorderHoldMs);
      poolTimer.unref?.();
    }
  }

  /** One direction of one connection: a delay queue, a token bucket and flow control. */
  class Lane {
    /** @param {Conn} conn @param {Direction} dir @param {net.Socket} src @param {net.Socket} dst */
    constructor(conn, dir, src, dst) {
      this.conn = conn;
      this.dir = dir;
      this.src = src;
      this.dst = dst;
      /** @type {{ buf: Buffer | null, at: number }[]} buf null = FIN */
      this.queue = [];
      this.queued = 0;
      this.lastAt = 0;
      this.tokens = 0;
      this.tokensAt = Date.now();
      /** @type {ReturnType<typeof setTimeout> | null} */
      this.timer = null;
      this.dstBlocked = false;
      this.forwarded = 0;
      this.ended = false;
      this.sawEnd = false;
      dst.on('drain', () => {
        this.dstBlocked = false;
        this.flow();
        this.pump();
      });
    }

    /** @param {Buffer | null} buf @param {number} [extraMs] */
    enqueue(buf, extraMs = 0) {
      const lat = faults.latency[this.dir];
      const at = Math.max(Date.now() + lat + extraMs, this.lastAt);
      this.lastAt = at;
      this.queue.push({ buf, at });
      if (buf) this.queued += buf.length;
      else this.sawEnd = true;
      this.flow();
      this.pump();
    }

    held() {
      return faults.halfOpen || this.conn.dead;
    }

    /** Reads the source only while it makes sense to. */
    flow() {
      if (this.conn.dead || this.src.destroyed) return;
      const stop =
        faults.halfOpen || this.dstBlocked || this.queued > HIGH_WATER || !this.conn.upstreamReady;
      if (stop && !this.src.isPaused()) this.src.pause();
      else if (!stop && this.src.isPaused()) this.src.resume();
    }

    pump() {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      if (this.held()) return;
      if (this.dst.destroyed) return this.drop();
      while (this.queue.length) {
        if (this.dstBlocked) return;
        const item = /** @type {{ buf: Buffer | null, at: number }} */ (this.queue[0]);
        const now = Date.now();
        if (item.at > now) return this.wake(item.at - now);
        if (!item.buf) {
          this.queue.shift();
          this.ended = true;
          this.dst.end();
          continue;
        }
        const bps = faults.throttle[this.dir];
        let n = item.buf.length;
        if (bps > 0 && Number.isFinite(bps)) {
          const burst = Math.max(1024, bps / 20);
          this.tokens = Math.min(burst, this.tokens + ((now - this.tokensAt) * bps) / 1000);
          this.tokensAt = now;
          if (this.tokens < 1)
            return this.wake(Math.max(1, Math.ceil((Math.min(n, burst) * 1000) / bps / 4)));
          n = Math.min(n, Math.floor(this.tokens));
          this.tokens -= n;
        }
        const piece = n === item.buf.length ? item.buf : item.buf.subarray(0, n);
        if (n === item.buf.length) this.queue.shift();
        else item.buf = item.buf.subarray(n);
        this.queued -= n;
        this.forwarded += n;
        if (this.dir === 'up') stats.bytesUp += n;
        else stats.bytesDown += n;
        if (!this.dst.write(piece)) this.dstBlocked = true;
      }
      this.flow();
    }

    /** @param {number} ms */
    wake(ms) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, ms);
      this.timer.unref?.();
    }

    drop() {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.queue = [];
      this.queued = 0;
    }
  }

  class Conn {
    /** @param {net.Socket} client */
    constructor(client) {
      this.id = nextId++;
      this.openedAt = Date.now();
      this.client = client;
      this.upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
      this.upstreamReady = false;
      /** @type {'http' | 'websocket' | 'opaque'} */
      this.kind = 'http';
      this.dead = false;
      this.pooled = false;
      /** Response bytes of an incomplete message, kept while reordering. @type {Buffer[]} */
      this.partial = [];
      /** Raw bytes (null = FIN) that arrived behind a pooled response. @type {(Buffer | null)[]} */
      this.behindPool = [];
      /** A reset that arrived during half-open, forwarded on release. @type {'client' | 'upstream' | null} */
      this.pendingReset = null;
      this.blocked = false;
      /** @type {ReturnType<typeof setTimeout> | null} */
      this.lingerTimer = null;
      sockets.add(client);
      sockets.add(this.upstream);
      this.up = new Lane(this, 'up', client, this.upstream);
      this.down = new Lane(this, 'down', this.upstream, client);
      this.reqParser = new HttpSegmenter('request', (head) => {
        if (head.upgrade) this.onUpgradeRequest();
      });
      this.resParser = new HttpSegmenter('response', (head) => {
        if (head.status === 101) this.kind = 'websocket';
      });
      client.pause();
      this.upstream.pause();
      this.upstream.on('connect', () => {
        this.upstreamReady = true;
        this.up.flow();
        this.down.flow();
      });
      client.on('data', (chunk) => this.fromClient(/** @type {Buffer} */ (chunk)));
      this.upstream.on('data', (chunk) => this.fromUpstream(/** @type {Buffer} */ (chunk)));
      client.on('end', () => this.up.enqueue(null));
      this.upstream.on('end', () => {
        this.down.sawEnd = true;
        this.flushResponseBytes();
      });
      client.on('error', () => this.onReset('client'));
      this.upstream.on('error', () => this.onReset('upstream'));
      client.on('close', () => this.onClose(client));
      this.upstream.on('close', () => this.onClose(this.upstream));
    }

    onUpgradeRequest() {
      this.kind = 'websocket';
      if (!faults.blockWebSockets) return;
      stats.blockedUpgrades += 1;
      this.blocked = true;
    }

    /** @param {Buffer} chunk */
    fromClient(chunk) {
      if (this.dead) return;
      for (const piece of this.reqParser.push(chunk)) {
        if (this.blocked) {
          // Answer for the refused upstream and hang up; the request never leaves the proxy.
          this.dead = true;
          this.up.drop();
          this.down.drop();
          this.upstream.destroy();
          this.client.end(FORBIDDEN);
          return;
        }
        this.up.enqueue(piece.buf);
      }
      if (this.reqParser.mode === 'raw' && this.kind === 'http') this.kind = 'opaque';
    }

    /** @param {Buffer} chunk */
    fromUpstream(chunk) {
      if (this.dead) return;
      for (const piece of this.resParser.push(chunk)) this.routeResponseBytes(piece.buf, piece.end);
      if (this.resParser.mode === 'raw' && this.kind === 'http') this.kind = 'opaque';
    }

    /** @param {Buffer} buf @param {boolean} end */
    routeResponseBytes(buf, end) {
      const raw = this.resParser.mode === 'raw' && !end;
      if (faults.reorder && !raw) {
        this.partial.push(buf);
        if (end) {
          const whole = Buffer.concat(this.partial);
          this.partial = [];
          addToPool(this, whole);
        }
        return;
      }
      if (this.partial.length) {
        const rest = Buffer.concat(this.partial);
        this.partial = [];
        if (this.pooled) this.behindPool.push(rest);
        else this.down.enqueue(rest);
      }
      if (this.pooled) this.behindPool.push(buf);
      else this.down.enqueue(buf);
    }

    /** Called when the pool released this connection's responses. */
    flushAfterPool() {
      const behind = this.behindPool;
      this.behindPool = [];
      for (const b of behind) this.down.enqueue(b);
    }

    /** The server sent FIN: what is left in the parser goes out, then the FIN, behind any pooled response. */
    flushResponseBytes() {
      /** @type {(Buffer | null)[]} */
      const rest = [...this.partial, this.resParser.takeRest(), null];
      this.partial = [];
      for (const b of rest) {
        if (b && !b.length) continue;
        if (this.pooled) this.behindPool.push(b);
        else this.down.enqueue(b);
      }
    }

    /** @param {'client' | 'upstream'} from */
    onReset(from) {
      if (this.dead) return;
      if (faults.halfOpen) {
        this.pendingReset ??= from;
        return;
      }
      this.kill('rst');
    }

    /** @param {net.Socket} s */
    onClose(s) {
      sockets.delete(s);
      if (this.client.destroyed && this.upstream.destroyed) {
        this.dead = true;
        this.up.drop();
        this.down.drop();
        if (this.lingerTimer) clearTimeout(this.lingerTimer);
        conns.delete(this.id);
        return;
      }
      if (faults.halfOpen || this.dead) return; // release() or kill() takes care of the other side
      const other = s === this.client ? this.upstream : this.client;
      const towardOther = s === this.client ? this.up : this.down;
      if (!towardOther.sawEnd) {
        // Gone without a FIN we saw: the other side learns it the way TCP would tell it, by a reset.
        this.kill('rst');
        return;
      }
      // An orderly close: its FIN is queued toward the other side; give that side time to finish.
      this.lingerTimer = setTimeout(() => other.destroy(), 5000);
      this.lingerTimer.unref?.();
    }

    /** @param {'rst' | 'fin'} mode */
    kill(mode) {
      if (this.client.destroyed && this.upstream.destroyed) return;
      this.dead = true;
      this.up.drop();
      this.down.drop();
      this.partial = [];
      this.behindPool = [];
      for (const s of [this.client, this.upstream]) {
        if (s.destroyed) continue;
        if (mode === 'rst') resetSocket(s);
        else {
          s.end();
          // A peer that never answers our FIN must not keep the socket forever.
          const t = setTimeout(() => s.destroy(), 2000);
          t.unref?.();
          s.once('close', () => clearTimeout(t));
        }
      }
    }

    /** Half-open ended: deliver what waited, including a held reset. */
    release() {
      if (this.dead) return;
      if (this.pendingReset) {
        this.kill('rst');
        return;
      }
      this.up.flow();
      this.down.flow();
      this.up.pump();
      this.down.pump();
    }

    /** @returns {ConnectionInfo} */
    info() {
      return {
        id: this.id,
        kind: this.kind,
        bytesUp: this.up.forwarded,
        bytesDown: this.down.forwarded,
        queuedUp: this.up.queued,
        queuedDown: this.down.queued,
        ageMs: Date.now() - this.openedAt,
      };
    }
  }

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (closed || faults.refuse) {
      if (faults.refuse) stats.refused += 1;
      client.on('error', () => {});
      resetSocket(client);
      return;
    }
    stats.accepted += 1;
    const conn = new Conn(client);
    conns.set(conn.id, conn);
  });
  server.on('error', () => {});
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = /** @type {net.AddressInfo} */ (server.address());
  const port = address.port;

  /** @param {'up' | 'down'} dir @param {(lane: Lane) => void} fn */
  const eachLane = (dir, fn) => conns.forEach((c) => fn(dir === 'up' ? c.up : c.down));

  /** @type {FaultProxy} */
  const proxy = {
    url: `http://${host}:${port}`,
    port,
    cut(opts = {}) {
      const mode = opts.mode === 'fin' ? 'fin' : 'rst';
      let n = 0;
      for (const c of [...conns.values()]) {
        if (c.dead) continue;
        c.kill(mode);
        n += 1;
      }
      pool = pool.filter((e) => !e.conn.dead);
      stats.cuts += n;
      return n;
    },
    halfOpen(on = true) {
      const was = faults.halfOpen;
      faults.halfOpen = Boolean(on);
      for (const c of conns.values()) {
        c.up.flow();
        c.down.flow();
      }
      if (was && !faults.halfOpen) for (const c of [...conns.values()]) c.release();
    },
    latency(ms) {
      const v = typeof ms === 'number' ? { up: ms, down: ms } : ms;
      faults.latency.up = Math.max(0, Number(v.up ?? faults.latency.up) || 0);
      faults.latency.down = Math.max(0, Number(v.down ?? faults.latency.down) || 0);
    },
    throttle(bps) {
      const v = typeof bps === 'number' ? { up: bps, down: bps } : bps;
      faults.throttle.up = Math.max(0, Number(v.up ?? faults.throttle.up) || 0);
      faults.throttle.down = Math.max(0, Number(v.down ?? faults.throttle.down) || 0);
      eachLane('up', (l) => l.pump());
      eachLane('down', (l) => l.pump());
    },
    reorder(on = true, opts = {}) {
      faults.reorder = Boolean(on);
      if (opts.holdMs !== undefined) faults.reorderHoldMs = Math.max(0, Number(opts.holdMs) || 0);
      if (!faults.reorder) {
        releasePool(true);
        for (const c of conns.values()) {
          if (!c.partial.length) continue;
          const rest = Buffer.concat(c.partial);
          c.partial = [];
          c.down.enqueue(rest);
        }
      }
    },
    blockWebSockets(on = true) {
      faults.blockWebSockets = Boolean(on);
      if (!faults.blockWebSockets) return;
      for (const c of [...conns.values()]) if (c.kind === 'websocket') c.kill('rst');
    },
    refuse(on = true) {
      faults.refuse = Boolean(on);
    },
    reset() {
      proxy.latency(0);
      proxy.throttle(0);
      proxy.reorder(false);
      proxy.blockWebSockets(false);
      proxy.refuse(false);
      proxy.halfOpen(false);
    },
    connections() {
      return [...conns.values()].filter((c) => !c.dead).map((c) => c.info());
    },
    stats() {
      return { ...stats };
    },
    async close() {
      if (closed) return;
      closed = true;
      faults.halfOpen = false;
      if (poolTimer) clearTimeout(poolTimer);
      poolTimer = null;
      pool = [];
      const done = new Promise((resolve) => server.close(() => resolve(undefined)));
      for (const c of [...conns.values()]) c.kill('rst');
      await Promise.all(
        [...sockets].map((s) =>
          s.destroyed && s.closed
            ? undefined
            : new Promise((r) => {
                s.once('close', () => r(undefined));
                s.destroy();
              }),
        ),
      );
      sockets.clear();
      conns.clear();
      await done;
    },
  };
  return proxy;
}

/** @param {net.Socket} s */
function resetSocket(s) {
  try {
    if (typeof s.resetAndDestroy === 'function' && !s.destroyed && !s.connecting)
      s.resetAndDestroy();
    else s.destroy();
  } catch {
    s.destroy();
  }
}

/** @param {FaultProxyOptions['target']} t @returns {{ host: string, port: number }} */
function parseTarget(t) {
  if (typeof t === 'object' && t) return { host: t.host ?? '127.0.0.1', port: t.port };
  const m = /^(?:https?:\/\/)?([^/:]+):(\d+)/.exec(String(t));
  if (!m)
    throw new TypeError(`fault proxy target must look like http://host:port, got ${String(t)}`);
  return {
    host: m[1] === 'localhost' ? '127.0.0.1' : /** @type {string} */ (m[1]),
    port: Number(m[2]),
  };
}
