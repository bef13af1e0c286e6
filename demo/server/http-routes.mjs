// Plain HTTP routes: /csrf_token, /poll (the fallback the client degrades to),
// the optional fault/world API for the demo page, and static files.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { URL } from 'node:url';
import { parseCookies } from './security.mjs';
import { coerceSnapshotRequest } from './state-sync.mjs';
import { FAULT_NAMES } from './faults.mjs';

/**
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').ServerResponse} Res
 * @typedef {import('./faults.mjs').Faults} Faults
 * @typedef {import('./world.mjs').World} World
 * @typedef {import('./manager.mjs').Stats} Stats
 * @typedef {import('./security.mjs').Runtime} Runtime
 * @typedef {import('./security.mjs').CsrfStore} CsrfStore
 */

const TYPES = /** @type {Record<string, string>} */ ({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
});
const MAX_BODY = 1024 * 1024;

/** @param {Res} res @param {number} status @param {unknown} body */
function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** @param {Req} req @returns {Promise<unknown>} parsed JSON; undefined when empty, null when invalid */
async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Maps a URL path onto a file under root, refusing anything that escapes it.
 * @param {string} root @param {string} urlPath @returns {string | null}
 */
function safeJoin(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const base = resolve(root);
  const full = resolve(base, `.${decoded.startsWith('/') ? '' : '/'}${decoded}`);
  return full === base || full.startsWith(base + sep) ? full : null;
}

/**
 * @param {{ options: { cors: boolean, staticRoot?: string, faultApi: boolean, routes: 'classic' | 'api' }, repoRoot: string, runtime: Runtime,
 *   csrf: CsrfStore, world: World, faults: Faults, stats: Stats }} deps
 */
export function createHttpRoutes({ options, repoRoot, runtime, csrf, world, faults, stats }) {
  /** @type {Set<{ timer: ReturnType<typeof setTimeout>, res: Res }>} slow polls still waiting */
  const waiting = new Set();

  /** Permissive CORS with credentials for the token and poll routes (tests run on http://localhost:3000). @param {Req} req @param {Res} res */
  function cors(req, res) {
    const origin = req.headers.origin;
    if (!options.cors || !origin) return;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
  }

  /** @param {Req} req @param {Res} res */
  function preflight(req, res) {
    cors(req, res);
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader(
      'Access-Control-Allow-Headers',
      req.headers['access-control-request-headers'] || 'Content-Type, X-CSRF-Token',
    );
    res.setHeader('Access-Control-Max-Age', '600');
    res.writeHead(204).end();
  }

  /** @param {Req} req @param {Res} res */
  async function poll(req, res) {
    stats.polls += 1;
    const body = await readJson(req);
    if (faults.down) return sendJson(res, 503, { ok: false, error: 'Server restarting' });
    // As helpers/api.py csrf_protect: header or cookie, either one is enough.
    const header = req.headers['x-csrf-token'];
    const fromHeader = typeof header === 'string' && csrf.isValid(header);
    if (!fromHeader && !csrf.tokenFromCookies(parseCookies(req.headers.cookie))) {
      return sendJson(res, 403, { ok: false, error: 'CSRF token missing or invalid' });
    }
    if (faults.pollDelayMs > 0) {
      await new Promise((done) => {
        const entry = {
          res,
          timer: setTimeout(() => {
            waiting.delete(entry);
            done(undefined);
          }, faults.pollDelayMs),
        };
        waiting.add(entry);
      });
      if (res.writableEnded) return undefined;
    }
    if (faults.takePollFailure())
      return sendJson(res, 500, { ok: false, error: 'Injected poll failure' });
    return sendJson(res, 200, world.buildSnapshot(coerceSnapshotRequest(body)));
  }

  /** The fault and world APIs only take same-origin browser requests (or non-browser ones without Origin). @param {Req} req */
  function sameOrigin(req) {
    const origin = req.headers.origin;
    return !origin || origin === `http://${req.headers.host}`;
  }

  /** @param {string} action @param {Record<string, any>} b */
  function worldAction(action, b) {
    const ctx = b.ctxId ?? b.context;
    switch (action) {
      case 'addChat':
        return { id: world.addChat(b.name) };
      case 'appendLog':
        return { no: world.appendLog(ctx, b) };
      case 'updateLog':
        return world.updateLog(ctx, Number(b.no), b.patch ?? b);
      case 'notify':
        return { no: world.notify(String(b.message ?? ''), b.type) };
      case 'setProgress':
        return world.setProgress(ctx, String(b.text ?? ''), b.active !== false);
      case 'resetChat':
        return world.resetChat(ctx);
      case 'removeChat':
        return world.removeChat(ctx);
      case 'setPaused':
        return world.setPaused(ctx, Boolean(b.paused));
      case 'tick':
        return world.tick();
      case 'startTicker':
        return world.startTicker(Number(b.ms) || 1500);
      case 'stopTicker':
        return world.stopTicker();
      default:
        throw Object.assign(new Error(`Unknown world action '${action}'`), { status: 404 });
    }
  }

  /** @param {Req} req @param {Res} res @param {string} path */
  async function controlApi(req, res, path) {
    if (!sameOrigin(req))
      return sendJson(res, 403, { ok: false, error: 'Cross-origin requests are not allowed' });
    if (path === '/__faults' && req.method === 'GET')
      return sendJson(res, 200, { ok: true, faults: faults.state() });
    if (path === '/__world' && req.method === 'GET') {
      return sendJson(res, 200, {
        ok: true,
        snapshot: world.buildSnapshot({
          context: null,
          log_from: 0,
          notifications_from: 0,
          timezone: 'UTC',
        }),
      });
    }
    if (req.method !== 'POST')
      return sendJson(res, 405, { ok: false, error: 'Method not allowed' });
    const body = await readJson(req);
    if (body === null) return sendJson(res, 400, { ok: false, error: 'Invalid JSON body' });
    const b = /** @type {Record<string, any>} */ (body && typeof body === 'object' ? body : {});
    const [, kind, name = ''] = path.split('/');
    try {
      if (kind === '__faults') {
        if (!FAULT_NAMES.includes(name))
          return sendJson(res, 404, { ok: false, error: `Unknown fault '${name}'` });
        // Body { value } → faults.name(value); otherwise the body itself is the argument (restart's { downtimeMs }).
        const arg = 'value' in b ? b.value : Object.keys(b).length ? b : undefined;
        const result = /** @type {any} */ (faults)[name](arg);
        // restart() resolves after its downtime; the page only needs to know it began.
        if (result instanceof Promise) result.catch(() => {});
        return sendJson(res, 200, { ok: true, faults: faults.state() });
      }
      const result = worldAction(name, b);
      return sendJson(res, 200, { ok: true, result: result ?? null });
    } catch (err) {
      const e = /** @type {Error & { status?: number }} */ (err);
      return sendJson(res, e.status ?? 400, { ok: false, error: e.message });
    }
  }

  /**
   * Third-party files the demo pages load: the UMD/CDN builds for plain script tags,
   * and ESM builds for the import map of the module page.
   * @type {Record<string, string>}
   */
  const VENDOR = {
    '/vendor/socket.io.min.js': 'socket.io-client/dist/socket.io.min.js',
    '/vendor/socket.io.esm.min.js': 'socket.io-client/dist/socket.io.esm.min.js',
    '/vendor/idb-keyval.js': 'idb-keyval/dist/index.js',
    '/vendor/alpine.esm.js': 'alpinejs/dist/module.esm.js',
    '/vendor/alpine.min.js': 'alpinejs/dist/cdn.min.js',
  };

  /** @param {Req} req @param {Res} res @param {string} path */
  async function serveStatic(req, res, path) {
    const root = /** @type {string} */ (options.staticRoot);
    let file;
    const vendor = VENDOR[path];
    if (vendor) file = join(repoRoot, 'node_modules', vendor);
    else if (path.startsWith('/dist/'))
      file = safeJoin(join(repoRoot, 'dist'), path.slice('/dist'.length));
    else file = safeJoin(root, path);
    if (!file) return sendJson(res, 404, { ok: false, error: 'Not found' });
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file);
      }
      if (!info.isFile()) throw new Error('not a file');
      // no-cache with a validator: the browser asks every time (an edited file is never
      // stale) but reuses its copy, and V8's compiled code for scripts, when nothing changed.
      const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const cacheHeaders = {
        'Cache-Control': 'no-cache',
        ETag: etag,
        'Last-Modified': info.mtime.toUTCString(),
      };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, cacheHeaders);
        return res.end();
      }
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Length': info.size,
        ...cacheHeaders,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch {
      sendJson(res, 404, { ok: false, error: 'Not found' });
    }
    return undefined;
  }

  // The classic WebSocket merge serves /csrf_token and /poll (this server also answers the
  // /api/ paths there); current Agent Zero has its HTTP API under /api/ only, and 404 elsewhere.
  const api = options.routes === 'api';
  const tokenPaths = api ? ['/api/csrf_token'] : ['/csrf_token', '/api/csrf_token'];
  const pollPaths = api ? ['/api/poll'] : ['/poll', '/api/poll'];

  /** @param {Req} req @param {Res} res @param {string} path */
  async function route(req, res, path) {
    if ((tokenPaths.includes(path) || pollPaths.includes(path)) && req.method === 'OPTIONS') {
      return preflight(req, res);
    }
    if (tokenPaths.includes(path)) {
      cors(req, res);
      if (faults.down) return sendJson(res, 503, { ok: false, error: 'Server restarting' });
      if (req.method !== 'GET')
        return sendJson(res, 405, { ok: false, error: 'Method not allowed' });
      if (!api) {
        // No Set-Cookie: in Agent Zero the page sets csrf_token_<runtime_id> itself.
        return sendJson(res, 200, { ok: true, token: csrf.issue(), runtime_id: runtime.id });
      }
      // Current Agent Zero: the token lives in the server's session, whose cookie this answer
      // sets; the Engine.IO handshake then needs that cookie and the page's csrf_token_<id> one.
      const session = csrf.session(parseCookies(req.headers.cookie));
      if (session.created)
        res.setHeader(
          'Set-Cookie',
          `session_${runtime.id}=${session.id}; Path=/; HttpOnly; SameSite=Lax`,
        );
      return sendJson(res, 200, { ok: true, token: session.token, runtime_id: runtime.id });
    }
    if (pollPaths.includes(path)) {
      cors(req, res);
      if (req.method !== 'POST')
        return sendJson(res, 405, { ok: false, error: 'Method not allowed' });
      return poll(req, res);
    }
    if (
      options.faultApi &&
      (path === '/__faults' ||
        path === '/__world' ||
        path.startsWith('/__faults/') ||
        path.startsWith('/__world/'))
    ) {
      return controlApi(req, res, path);
    }
    if (options.staticRoot && (req.method === 'GET' || req.method === 'HEAD'))
      return serveStatic(req, res, path);
    return sendJson(res, 404, { ok: false, error: 'Not found' });
  }

  return {
    /** @param {Req} req @param {Res} res */
    handle(req, res) {
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      route(req, res, path).catch((err) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: String(err?.message ?? err) });
        else res.destroy();
      });
    },
    /** Answers slow polls still waiting so the HTTP server can close. */
    close() {
      for (const entry of waiting) {
        clearTimeout(entry.timer);
        if (!entry.res.headersSent)
          sendJson(entry.res, 503, { ok: false, error: 'Server closing' });
      }
      waiting.clear();
    },
  };
}
