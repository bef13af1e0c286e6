// syncwire from Node (a test, a script, a server-side check) against an Agent Zero build
// with its HTTP API under /api/:  node demo/node/example.mjs http://127.0.0.1:8787
import { createNamespacedClient, createSyncStore } from 'syncwire';
import { cookieJar } from './cookie-jar.mjs';

/** Connects a store to the server at `url`; resolves with it and its client once it is HEALTHY. */
export async function syncFromNode(url) {
  const jar = cookieJar(url);
  const client = createNamespacedClient('/state_sync', {
    url,
    csrfTokenUrl: '/api/csrf_token',
    fetch: jar.fetch,
    socketOptions: { extraHeaders: jar.headers },
  });
  client.onError((error) => console.error(error.code, error.message));
  const store = createSyncStore({ client, pollUrl: '/api/poll', fetch: jar.fetch });
  const healthy = new Promise((resolve) =>
    store.subscribe(() => store.mode === 'HEALTHY' && resolve({ client, store })),
  );
  await store.start();
  return healthy;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { client, store } = await syncFromNode(process.argv[2] ?? 'http://127.0.0.1:8787');
  console.log(store.mode, store.health.epoch, Object.keys(store.state));
  store.stop();
  client.dispose();
}
