// The reference server in a process of its own, driven over IPC. Benches that
// need the server's work off the client's core (fan-out) or out of the client's
// heap (reconnect leak check) use it.
import { createReferenceServer } from '../../demo/server/reference-server.mjs';

const server = await createReferenceServer(JSON.parse(process.argv[2] ?? '{}'));
const wallNow = () => performance.timeOrigin + performance.now();

const commands = {
  now: () => wallNow(),
  stats: () => ({
    connections: server.stats.connections,
    totalConnections: server.stats.totalConnections,
    engineClients: server.io.engine.clientsCount,
  }),
  /** Transport-level close of every connection (clients see "transport close" and reconnect). */
  closeTransports: () => {
    const n = server.io.engine.clientsCount;
    server.manager.closeTransports();
    return n;
  },
  /** One server broadcast through the manager (as the `fanout` handler does), stamped with the send time. */
  broadcast: ({ namespace, event, i }) => {
    const sentAt = wallNow();
    const n = server.manager.broadcast(namespace, event, { i, sentAt });
    return { n, sentAt, loopMs: wallNow() - sentAt };
  },
};

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await server.close().catch(() => {});
  process.exit(0);
}

process.on('message', async (msg) => {
  if (msg?.cmd === 'close') {
    closing = true;
    await server.close().catch(() => {});
    process.send?.({ id: msg.id, ok: true, result: null }, () => process.exit(0));
    return;
  }
  try {
    const fn = commands[msg?.cmd];
    if (!fn) throw new Error(`unknown command ${msg?.cmd}`);
    process.send?.({ id: msg.id, ok: true, result: await fn(msg.args ?? {}) });
  } catch (err) {
    process.send?.({ id: msg.id, ok: false, error: String(err?.stack ?? err) });
  }
});
// The bench process went away: never outlive it.
process.on('disconnect', () => void shutdown());
process.send?.({ ready: true, url: server.url });
