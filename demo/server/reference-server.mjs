// The syncwire reference server: a Node stand-in for Agent Zero's WebSocket and
// state-sync backend that speaks the same wire protocol (see
// /work/shared/notes/protocol-anchor-agent-zero.md §1), plus fault injection.
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { CsrfStore, checkOrigin, newRuntimeId, parseCookies } from './security.mjs';
import { Manager, resultOk, resultError, envelope, MANAGER_ID } from './manager.mjs';
import { World } from './world.mjs';
import { StateSync } from './state-sync.mjs';
import { Faults } from './faults.mjs';
import { registerTestHandlers } from './test-handlers.mjs';
import { createHttpRoutes } from './http-routes.mjs';

export { resultOk, resultError, envelope, MANAGER_ID, World };

// A string, not new URL(): under jsdom/happy-dom tests the global URL is the DOM's.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * @typedef {object} ReferenceServerOptions
 * @property {number} [port] default 0 (any free port)
 * @property {string} [host] default '127.0.0.1'
 * @property {boolean} [cors] default true: permissive CORS with credentials (tests run on http://localhost:3000)
 * @property {boolean} [allowMissingOrigin] default true
 * @property {string[]} [allowedOrigins] origins accepted besides http://<Host>
 * @property {boolean} [requireCsrfCookie] default false
 * @property {boolean} [serverRestartEvent] default true
 * @property {number} [maxHttpBufferSize] default 50 MiB
 * @property {number} [pushThrottleMs] default 25
 * @property {string} [staticRoot] serve files from here (plus /dist and /vendor/socket.io.min.js)
 * @property {boolean} [faultApi] default false: expose /__faults and /__world over HTTP
 * @property {number} [tickerMs] default 0 (off): the world changes by itself every tickerMs
 * @property {string[]} [testHandlersOn] namespaces besides /dev_websocket_test where the harness
 *   handler (echo, delayed, fail, ...) answers: the tabs tests call it on /state_sync
 * @property {'classic' | 'api'} [routes] default 'classic': /csrf_token and /poll as the WebSocket merge
 *   serves them (the /api/ paths answer too); 'api': current Agent Zero, /api/csrf_token and /api/poll only
 *   (404 on the old paths), a session cookie set by the token route, and the Engine.IO handshake refused
 *   (HTTP 403) without that session's cookies or with a foreign Origin
 *
 * @typedef {object} ReferenceServer
 * @property {string} url e.g. http://127.0.0.1:40123 (no trailing slash)
 * @property {number} port
 * @property {import('node:http').Server} httpServer
 * @property {import('socket.io').Server} io
 * @property {import('./security.mjs').Runtime} runtime
 * @property {Faults} faults
 * @property {World} world
 * @property {Manager} manager
 * @property {StateSync} stateSync
 * @property {import('./manager.mjs').Stats} stats
 * @property {() => Promise<void>} close closes sockets, timers, the ticker and the HTTP server
 */

/**
 * @param {ReferenceServerOptions} [options]
 * @returns {Promise<ReferenceServer>}
 */
export async function createReferenceServer(options = {}) {
  const opts = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    cors: options.cors ?? true,
    allowMissingOrigin: options.allowMissingOrigin ?? true,
    allowedOrigins: options.allowedOrigins ?? [],
    requireCsrfCookie: options.requireCsrfCookie ?? false,
    serverRestartEvent: options.serverRestartEvent ?? true,
    maxHttpBufferSize: options.maxHttpBufferSize ?? 50 * 1024 * 1024,
    pushThrottleMs: options.pushThrottleMs ?? 25,
    staticRoot: options.staticRoot,
    faultApi: options.faultApi ?? false,
    tickerMs: options.tickerMs ?? 0,
    routes: options.routes ?? 'classic',
    testHandlersOn: options.testHandlersOn ?? [],
  };
  if (opts.routes !== 'classic' && opts.routes !== 'api')
    throw new TypeError(`routes: 'classic' or 'api', not ${String(opts.routes)}`);
  const runtime = { id: newRuntimeId() };
  const csrf = new CsrfStore(runtime);
  /** @type {import('./manager.mjs').Stats} */
  const stats = {
    connections: 0,
    totalConnections: 0,
    received: new Map(),
    stateRequests: 0,
    fullStateRequests: 0,
    polls: 0,
    rejections: [],
  };
  const world = new World();

  /** @type {ReturnType<typeof createHttpRoutes> | null} */
  let routes = null;
  const httpServer = createServer((req, res) => routes?.handle(req, res));
  /** @type {Faults | null} */
  let faultsRef = null;
  const io = new Server(httpServer, {
    serveClient: false,
    // Same timings and cap as Agent Zero's python-socketio AsyncServer.
    pingInterval: 25000,
    pingTimeout: 20000,
    maxHttpBufferSize: opts.maxHttpBufferSize,
    cleanupEmptyChildNamespaces: true,
    ...(opts.cors ? { cors: { origin: true, credentials: true } } : {}),
    allowRequest: (req, cb) => {
      if (faultsRef && !faultsRef.allowTransport()) return cb(null, false);
      if (opts.routes === 'api') {
        const why =
          checkOrigin(req.headers, opts) ?? csrf.handshakeProblem(parseCookies(req.headers.cookie));
        if (why) {
          stats.rejections.push({
            at: new Date().toISOString(),
            namespace: '(engine.io handshake)',
            reason: why,
          });
          return cb(why, false);
        }
      }
      cb(null, true);
    },
  });

  // A long-polling transport closed while no GET was waiting (a ping timeout behind a
  // half-open link) arms Engine.IO's 30 s "orderly close" timer and leaves the client list,
  // so io.close() cannot reach it. Remember transports until they really close, and finish
  // the pending ones on close() so a process using this server can exit at once.
  /** @type {Set<{ shouldClose?: () => void, once(ev: string, fn: () => void): void }>} */
  const transports = new Set();
  /** @param {any} t */
  const trackTransport = (t) => {
    transports.add(t);
    t.once('close', () => transports.delete(t));
  };
  io.engine.on('connection', (/** @type {any} */ socket) => {
    trackTransport(socket.transport);
    socket.on('upgrade', (/** @type {any} */ t) => trackTransport(t));
  });

  const manager = new Manager({ io, runtime, csrf, stats, options: opts });
  const testHandlers = registerTestHandlers(manager, opts.testHandlersOn);
  const stateSync = new StateSync({
    manager,
    world,
    runtime,
    stats,
    pushThrottleMs: opts.pushThrottleMs,
  });
  const faults = new Faults({ manager, stateSync, runtime, csrf, world });
  faultsRef = faults;
  routes = createHttpRoutes({
    options: opts,
    repoRoot: REPO_ROOT,
    runtime,
    csrf,
    world,
    faults,
    stats,
  });

  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, () => {
      httpServer.off('error', reject);
      resolve(undefined);
    });
  });
  const address = httpServer.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  if (opts.tickerMs > 0) world.startTicker(opts.tickerMs);

  /** @type {Promise<void> | null} */
  let closing = null;
  return {
    url: `http://${opts.host}:${port}`,
    port,
    httpServer,
    io,
    runtime,
    faults,
    world,
    manager,
    stateSync,
    stats,
    close() {
      closing ??= (async () => {
        world.stopTicker();
        faults.close();
        stateSync.close();
        testHandlers.dispose();
        manager.close();
        routes?.close();
        const done = io.close();
        // io.close() has sent its disconnects by now; drop keep-alive HTTP sockets so close() can finish.
        setImmediate(() => httpServer.closeAllConnections());
        await done;
        for (const t of transports) t.shouldClose?.();
        transports.clear();
      })();
      return closing;
    },
  };
}
