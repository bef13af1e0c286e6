import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createReferenceServer,
  type ReferenceServer,
} from '../../demo/server/reference-server.mjs';

let server: ReferenceServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('reference server limits', () => {
  it('drops a connection that sends a frame over maxHttpBufferSize, and keeps serving smaller ones', async () => {
    server = await createReferenceServer({ maxHttpBufferSize: 4096 });
    const { token } = (await (await fetch(`${server.url}/csrf_token`)).json()) as { token: string };
    const socket = io(`${server.url}/dev_websocket_test`, {
      transports: ['websocket'],
      auth: { csrf_token: token },
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    const small = (await socket.timeout(2000).emitWithAck('echo', {
      ts: new Date().toISOString(),
      data: { s: 'x'.repeat(100) },
      correlationId: 'small',
    })) as { results: { ok: boolean }[] };
    expect(small.results[0]?.ok).toBe(true);
    const closed = new Promise<string>((resolve) =>
      socket.on('disconnect', (reason) => resolve(reason)),
    );
    socket.emit('echo', {
      ts: new Date().toISOString(),
      data: { s: 'x'.repeat(10_000) },
      correlationId: 'big',
    });
    expect(await closed).toBe('transport close');
    expect(server.stats.received.has('big')).toBe(false);
    socket.close();
  });
});
