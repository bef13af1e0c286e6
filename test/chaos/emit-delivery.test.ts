// A confirmed emit() (the default: it resolves on the server's ack) through the fault proxy,
// on a connection that dies without telling anyone:
//  - half-open: no FIN, no RST (a NAT or proxy dropped the mapping); the client notices only
//    after Engine.IO's pingInterval + pingTimeout (Agent Zero: 25 s + 20 s; 200 + 200 ms here);
//  - reset while the bytes are still in flight (150 ms of uplink latency, then a cut).
// README's delivery contract must hold: resolved means delivered exactly once, a typed rejection
// means delivered at most once. (The chaos run checks the same over many faults: chaos.test.ts.)
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

/** 'resolved', or 'rejected <code>'. */
async function emitOutcome(id: string) {
  const outcome = await client.emit('record', { id }, { correlationId: id }).then(
    () => 'resolved',
    (e: { code?: string }) => `rejected ${e.code ?? '?'}`,
  );
  return outcome;
}

/**
 * How often the server saw `id`, counted once a confirmed marker emit sent after it has been
 * acknowledged: whatever was sent (or held by the proxy) before the marker has arrived by then.
 * A marker lost with a connection that was still dying is sent again on the next one.
 */
async function receivedBeforeMarker(id: string) {
  const marker = `${id}-marker`;
  for (let attempt = 1; ; attempt++) {
    await waitFor(() => client.isConnected(), 5000);
    const acked = await client.emit('record', { id: marker }, { correlationId: marker }).then(
      () => true,
      (e: unknown) => {
        if (attempt === 5) throw e;
        return false;
      },
    );
    if (acked) break;
  }
  expect(server.stats.received.get(marker)).toBeGreaterThanOrEqual(1);
  return server.stats.received.get(id) ?? 0;
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

describe('a confirmed emit() on a connection that dies keeps the delivery contract', () => {
  it('on a half-open connection', async () => {
    await setup();
    const disconnects: string[] = [];
    client.onDisconnect((r) => void disconnects.push(r));
    proxy.halfOpen(true);
    const outcome = await emitOutcome('half-open-1');
    await waitFor(() => disconnects.length > 0, 5000); // Engine.IO's ping timeout notices
    proxy.halfOpen(false); // the partition heals; the held bytes are delivered
    await waitFor(() => client.isConnected(), 5000);
    const received = await receivedBeforeMarker('half-open-1');
    expectDeliveryContract(outcome, received);
  });

  it('when the connection is reset while the packet is in flight', async () => {
    await setup();
    proxy.latency({ up: 150 });
    const outcome = await emitOutcome('in-flight-1');
    proxy.cut({ mode: 'rst' });
    proxy.latency(0);
    await waitFor(() => client.isConnected(), 5000);
    const received = await receivedBeforeMarker('in-flight-1');
    expectDeliveryContract(outcome, received);
  });
});
