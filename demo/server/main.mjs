// `npm run demo`: the reference server with the demo page, the fault API and a
// ticking world, locked down like a real deployment (Origin and CSRF cookie required).
import { fileURLToPath } from 'node:url';
import { createReferenceServer } from './reference-server.mjs';

const server = await createReferenceServer({
  port: Number(process.env.PORT) || 8787,
  host: '127.0.0.1',
  staticRoot: fileURLToPath(new URL('../public/', import.meta.url)),
  faultApi: true,
  allowMissingOrigin: false,
  requireCsrfCookie: true,
  cors: false,
  tickerMs: 1500,
  // ROUTES=api: current Agent Zero's layout (/api/csrf_token, /api/poll, session cookie); open /?routes=api then.
  routes: process.env.ROUTES === 'api' ? 'api' : 'classic',
});
console.log(`syncwire demo: ${server.url}/${process.env.ROUTES === 'api' ? '?routes=api' : ''}`);

let stopping = false;
// Close sockets and timers first, then exit 0 so `npm run demo` does not report Ctrl+C as a failure.
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
