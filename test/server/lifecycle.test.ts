// close() must leave nothing behind: sockets, timers, the ticker, the HTTP server.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import { World } from '../../demo/server/world.mjs';
import { waitFor } from '../helpers/wait';
import { Harness, STATE_REQUEST, http, syncedSocket } from './helpers';

const h = new Harness();
afterEach(() => h.cleanup());

describe('close()', () => {
  it('can create and close servers repeatedly', async () => {
    const ports = new Set<number>();
    for (let i = 0; i < 3; i += 1) {
      const server = await createReferenceServer({ tickerMs: 5 });
      ports.add(server.port);
      expect((await http(server.url + '/csrf_token')).status).toBe(200);
      await server.close();
      await server.close(); // idempotent
      expect(server.httpServer.listening).toBe(false);
    }
    expect(ports.size).toBeGreaterThan(0);
  });

  it('leaves no open handles even with work in flight (a child process exits by itself)', async () => {
    // In-process handle counts are muddied by the test runner's own timers; a fresh
    // process that must exit on its own is the exact check.
    const child = spawn(
      process.execPath,
      [join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'close-check.mjs')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect(out).toContain('closed: poll 503');
    expect(code).toBe(0);
  });

  // The child takes about a second; a loaded machine (two suites at once) has taken over 15 s.
  it('leaves no timer behind after a long-polling client timed out', { timeout: 60_000 }, () => {
    const r = spawnSync(
      process.execPath,
      [join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'close-after-poll-timeout.mjs')],
      { encoding: 'utf8', timeout: 55_000 },
    );
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(line)).toEqual({ timersAfterClose: 0 });
  });

  it('stops the ticker, which otherwise keeps changing the world', async () => {
    const server = await h.start({ tickerMs: 5 });
    const { pushes } = await syncedSocket(h, server, STATE_REQUEST);
    await pushes.next(); // a tick changed the world and was pushed
    expect(server.world.tickCount).toBeGreaterThan(0);
    const witness = await h.start({ tickerMs: 5 });
    await server.close();
    const ticks = server.world.tickCount;
    // A live ticker of the same period ticks three times meanwhile.
    const from = witness.world.tickCount;
    await waitFor(() => witness.world.tickCount >= from + 3);
    expect(server.world.tickCount).toBe(ticks);
  });
});

describe('World', () => {
  it('is seeded and ticks deterministically', () => {
    const a = new World();
    const b = new World();
    expect(a.chats.size).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 20; i += 1) {
      a.tick();
      b.tick();
    }
    const shape = (w: World) =>
      [...w.chats.values()].map((c) => c.log.items.map((i) => `${i.heading}|${i.content}`));
    expect(shape(a)).toEqual(shape(b));
    expect(a.notifications.items.length).toBeGreaterThan(1);
  });

  it('onChange returns an unsubscribe function', () => {
    const w = new World({ seed: false });
    const seen: string[] = [];
    const off = w.onChange((c) => seen.push(c.kind));
    const id = w.addChat('x');
    w.appendLog(id, { content: 'a' });
    off();
    w.notify('n');
    expect(seen).toEqual(['chat_added', 'log']);
  });
});
