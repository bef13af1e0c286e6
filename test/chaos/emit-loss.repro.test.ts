// STATUS: failed when written; passes since emits are confirmed by the server's ack (emit()'s
// `confirm`, on by default). Kept as a regression test.
// REPRO: a fire-and-forget emit() resolves as soon as the packet is handed to
// a socket that believes it is connected (src/client/client.ts emit(): `s.emit(event,
// payload)` then return), with no acknowledgement. When the connection is in fact dead,
// the event is lost although its promise resolved:
//  - half-open: no FIN, no RST (a NAT or proxy dropped the mapping); the client notices
//    only after Engine.IO's pingInterval + pingTimeout (Agent Zero: 25 s + 20 s = 45 s).
//    Every emit in that window resolves and is lost. The chaos run loses most of its
//    events this way (see `npm run chaos`, "lost events by the fault ...").
//  - a reset while the bytes are still in flight (here: 150 ms of uplink latency, then a cut).
// Invariant (c) of the chaos run: an emit is delivered exactly once, or it rejects with a
// typed error. A fix needs a delivery signal: e.g. emit with a Socket.IO ack (the Agent
// Zero server acks every event) and resolve on the ack, reject with TIMEOUT (ambiguous:
// maybe delivered) or DISCONNECTED; or document emit() as at-most-once and offer an
// acknowledged variant.
import { afterEach, describe, expect, it } from 'vitest';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import { createNamespacedClient, type NamespacedClient } from '../../src/index';
import { createFaultProxy, type FaultProxy } from '../../chaos/fault-proxy.mjs';
import { waitFor } from '../helpers/wait';

let server: Awaited<ReturnType<typeof createReferenceServer>>;
let proxy: FaultProxy;
let client: NamespacedClient;
afterEach(async () => {
  client?.dispose();
  await proxy?.close();
  await server?.close();
});

async function setup() {
  server = await createReferenceServer();
  server.io.engine.opts.pingInterval = 200;
  server.io.engine.opts.pingTimeout = 200;
  proxy = await createFaultProxy({ target: server.url });
  client = createNamespacedClient('/dev_websocket_test', {
    url: proxy.url,
    socketOptions: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 },
  });
  await client.connect();
}

/** Resolved, rejected (with its code), and how often the server saw it. */
async function emitAndCount(id: string) {
  const outcome = await client.emit('record', { id }, { correlationId: id }).then(
    () => 'resolved',
    (e: { code?: string }) => `rejected ${e.code ?? '?'}`,
  );
  return outcome;
}

/**
 * README's contract for a confirmed emit: resolved means delivered, exactly once; a rejection
 * (typed) means it could not be confirmed: delivered at most once. When the ack is lost with
 * the connection the event may still arrive (a healed partition delivers the held bytes), which
 * no protocol can rule out; the chaos run counts these as "ambiguous".
 */
function expectDeliveryContract(outcome: string, received: number) {
  if (outcome === 'resolved') expect(received).toBe(1);
  else {
    expect(outcome).toMatch(/^rejected (DISCONNECTED|TIMEOUT)$/);
    expect(received).toBeLessThanOrEqual(1);
  }
}

describe('a resolved emit() must reach the server', () => {
  it('on a half-open connection', async () => {
    await setup();
    const disconnects: string[] = [];
    client.onDisconnect((r) => void disconnects.push(r));
    proxy.halfOpen(true);
    const outcome = await emitAndCount('half-open-1');
    await waitFor(() => disconnects.length > 0, 5000); // Engine.IO's ping timeout notices
    proxy.halfOpen(false); // the partition heals; the held bytes are delivered
    await waitFor(() => client.isConnected(), 5000);
    await new Promise((r) => setTimeout(r, 300));
    const received = server.stats.received.get('half-open-1') ?? 0;
    expectDeliveryContract(outcome, received);
  });

  it('when the connection is reset while the packet is in flight', async () => {
    await setup();
    proxy.latency({ up: 150 });
    const outcome = await emitAndCount('in-flight-1');
    proxy.cut({ mode: 'rst' });
    proxy.latency(0);
    await waitFor(() => client.isConnected(), 5000);
    await new Promise((r) => setTimeout(r, 300));
    const received = server.stats.received.get('in-flight-1') ?? 0;
    expectDeliveryContract(outcome, received);
  });
});
