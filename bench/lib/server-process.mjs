// Starts server-child.mjs and talks to it: `call(cmd, args)` → result.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { wallNow } from './util.mjs';

const CHILD = fileURLToPath(new URL('./server-child.mjs', import.meta.url));

/** @param {object} [options] reference server options (JSON-serialisable) */
export async function startServerProcess(options = {}) {
  const child = fork(CHILD, [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 1;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.on('message', (msg) => {
    const p = msg && pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`server child: ${msg.error}`));
  });
  child.once('exit', () => pending.forEach((p) => p.reject(new Error('server child exited'))));
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server child did not start within 10 s')), 10000);
    child.once('message', (msg) => {
      clearTimeout(t);
      if (msg?.ready) resolve(msg.url);
      else reject(new Error('bad hello'));
    });
    child.once('error', reject);
  });

  const call = (cmd, args) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, args });
    });

  return {
    url,
    call,
    /** Offset of the child's wall clock from ours (child - parent), from the fastest of `n` IPC round trips. */
    async clockOffset(n = 30) {
      let best = { rtt: Infinity, offset: 0 };
      for (let i = 0; i < n; i++) {
        const a = wallNow();
        const c = await call('now');
        const b = wallNow();
        if (b - a < best.rtt) best = { rtt: b - a, offset: c - (a + b) / 2 };
      }
      return best;
    },
    async close() {
      if (child.exitCode !== null) return;
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await call('close').catch(() => {});
      await exited;
      clearTimeout(t);
    },
  };
}
