// Found by a review of the client; each test failed before its fix (kept as regression tests).
import { describe, expect, it } from 'vitest';
import { SyncwireError } from '../../src/index';
import { connectedClient } from '../helpers/client-harness';
import { flush } from '../helpers/fake-clock';

const connected = (maxPayloadBytes: number) => connectedClient({ maxPayloadBytes });
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof SyncwireError ? e.code : 'untyped'),
  );

describe('maxPayloadBytes and binary data (Socket.IO sends it as attachments)', () => {
  it('an ArrayBuffer larger than maxPayloadBytes is refused before sending', async () => {
    const { factory, client } = await connected(1024 * 1024);
    const p = code(
      client.emit('upload', { file: new ArrayBuffer(4 * 1024 * 1024) }, { confirm: false }),
    );
    await flush();
    expect(factory.last().sent.filter((s) => s.event === 'upload')).toHaveLength(0);
    expect(await p).toBe('PAYLOAD_TOO_LARGE');
    client.dispose();
  });

  it('a Uint8Array well under maxPayloadBytes is not refused as too large', async () => {
    const { client } = await connected(2 * 1024 * 1024);
    expect(
      await code(client.emit('upload', { file: new Uint8Array(1024 * 1024) }, { confirm: false })),
    ).toBe('resolved');
    client.dispose();
  });

  it('a Blob counts at its size', async () => {
    const { factory, client } = await connected(1024);
    expect(
      await code(
        client.emit('upload', { file: new Blob([new Uint8Array(2048)]) }, { confirm: false }),
      ),
    ).toBe('PAYLOAD_TOO_LARGE');
    expect(
      await code(
        client.emit('upload', { file: new Blob([new Uint8Array(512)]) }, { confirm: false }),
      ),
    ).toBe('resolved');
    expect(factory.last().sent.filter((s) => s.event === 'upload')).toHaveLength(1);
    client.dispose();
  });
});
