// STATUS: failed when written; passes since close() finishes pending polling closes. Kept as a
// regression test.
// REPRO: createReferenceServer().close() (demo/server/reference-server.mjs)
// promises to close "sockets, timers, the ticker and the HTTP server", but a long-polling
// client whose transport the server closed while no GET was waiting (a ping timeout, e.g.
// behind a half-open connection) leaves Engine.IO's Polling.doClose() closeTimeout timer
// (30 s, node_modules/engine.io/build/transports/polling.js) running after close(). A
// Node process that uses the server (chaos/run.mjs) then cannot exit for up to 30 s.
// Checked in a child process, so the test runner's own timers do not count.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = `
import { createReferenceServer } from './demo/server/reference-server.mjs';
import { createFaultProxy } from '../../chaos/fault-proxy.mjs';
import { io } from 'socket.io-client';
const server = await createReferenceServer();
server.io.engine.opts.pingInterval = 100;
server.io.engine.opts.pingTimeout = 100;
const proxy = await createFaultProxy({ target: server.url });
// The token is fetched first, so nothing delays the connect packet. With a 100 ms ping timeout
// a busy machine can still lose the session before it connects (an "xhr post error"):
// that attempt proves nothing, so it is made again, a few times at most.
const { token } = await (await fetch(server.url + '/csrf_token')).json();
let socket;
for (let attempt = 1; !socket; attempt++) {
  const s = io(proxy.url + '/dev_websocket_test', { transports: ['polling'], reconnection: false, forceNew: true, auth: { csrf_token: token } });
  const ok = await new Promise((r) => (s.once('connect', () => r(true)), s.once('connect_error', () => r(false)), s.once('disconnect', () => r(false))));
  if (ok) socket = s;
  else if ((s.close(), attempt == 10)) throw new Error('never connected in 10 attempts');
}
proxy.halfOpen(true);                                   // the next GET never reaches the server
await new Promise((r) => setTimeout(r, 600));           // the server's ping timeout closes the transport
socket.close();
await proxy.close();
await server.close();
await new Promise((r) => setTimeout(r, 200));
const timers = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
console.log(JSON.stringify({ timersAfterClose: timers }));
process.exit(0);
`;

describe('reference server close()', () => {
  // The child takes about a second; a loaded machine (two suites at once) has taken over 15 s.
  // It used to hang now and then: a connect lost to the short ping timeout was waited for forever.
  it('leaves no timer behind after a long-polling client timed out', { timeout: 60_000 }, () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 55_000,
    });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(line)).toEqual({ timersAfterClose: 0 });
  });
});
