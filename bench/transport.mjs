// Back to WebSocket after a block, and a reload on a network that blocks WebSocket.
//
// ws_back_after_block_ms: default client options (Node, dist/index.js), a client and store
// through the fault proxy on WebSocket; the proxy blocks WebSockets (resetting the open one:
// Socket.IO reconnects on long-polling), the connection is on long-polling for a seeded hold,
// then the block is lifted. From the lift to the connection's transport being websocket again
// (the background probe, then the move), with the store HEALTHY. Median of 5 runs.
//
// reload_on_blocked_ws_ms: in Chromium, the page (pages/transport.html: the IIFE build, default
// options, the transport memo in sessionStorage) served through the fault proxy with WebSockets
// blocked; from navigation start of a reload to the first state shown (rendered, laid out).
// Baseline: the same page and reload with WebSockets allowed, alternated. Goal: at most 1.2 × the
// baseline. `detail.without_memo_ms`: the blocked reload with the memo off (?memo=0).
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createFaultProxy } from '../chaos/fault-proxy.mjs';
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/ensure-chromium.mjs';
import { benchMain } from './lib/module.mjs';
import { entry, median, seededRandom, sleep, waitFor, now } from './lib/util.mjs';

const PAGES = fileURLToPath(new URL('./pages', import.meta.url));
const dist = (file) => import(new URL(`../dist/${file}`, import.meta.url).href);

/** One block-and-lift run on a fresh server, proxy, client and store; ms from the lift. */
async function blockAndLift(holdMs) {
  const { createNamespacedClient, createSyncStore } = await dist('index.js');
  const { createAgentZeroModel } = await dist('agent-zero.js');
  const server = await createReferenceServer();
  const proxy = await createFaultProxy({ target: server.url });
  const client = createNamespacedClient('/state_sync', { url: proxy.url });
  const store = createSyncStore({ client, ...createAgentZeroModel() });
  try {
    await store.start();
    const healthyOn = async (name, what) =>
      waitFor(() => client.transport.name === name && store.mode === 'HEALTHY', {
        timeoutMs: 30000,
        intervalMs: 1,
        what,
      });
    await healthyOn('websocket', 'HEALTHY on websocket');
    proxy.blockWebSockets(true);
    await healthyOn('polling', 'HEALTHY on long-polling after the block');
    await sleep(holdMs);
    if (client.transport.name !== 'polling') throw new Error('left long-polling while blocked');
    const probesBefore = client.transport.probes;
    proxy.blockWebSockets(false);
    const t0 = now();
    await healthyOn('websocket', 'back on websocket');
    return {
      ms: now() - t0,
      probes_while_blocked: probesBefore,
      moves: client.transport.moves,
      resyncs: store.health.counters.resyncs,
    };
  } finally {
    store.stop();
    client.dispose();
    await proxy.close();
    await server.close();
  }
}

/**
 * Loads the page once; ms from navigation start to the first state shown, and how. Then the tab
 * leaves it (about:blank keeps the tab's sessionStorage), so that its probe does not see the
 * other network of the next round.
 */
async function reloadOnce(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.__bench.first !== null, null, { timeout: 30000 });
  const first = await page.evaluate(() => ({
    ...window.__bench.first,
    lines: window.__bench.lines,
  }));
  await page.goto('about:blank');
  return first;
}

async function reloads({ quick, log }) {
  const rounds = quick ? 4 : 12;
  const server = await createReferenceServer({ staticRoot: PAGES });
  server.world.addChat('transport bench');
  const proxy = await createFaultProxy({ target: server.url });
  const browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
  try {
    // One tab per network (sessionStorage, and so the memo, is per tab): a WebSocket that works
    // clears the memo, as it should on a network that lets it through.
    const open = async () => (await browser.newContext()).newPage();
    const [onAllowed, onBlocked] = [await open(), await open()];
    const url = `${proxy.url}/transport.html`;
    // First loads: warm caches, and the blocked tab's memo learns.
    await reloadOnce(onAllowed, url);
    proxy.blockWebSockets(true);
    const learnt = await reloadOnce(onBlocked, url);
    if (learnt.transport !== 'polling') throw new Error(`blocked load on ${learnt.transport}`);
    const allowed = [];
    const blocked = [];
    const noMemo = [];
    const odd = []; // a reload without the memo whose first state did not come over long-polling
    for (let i = 0; i < rounds; i++) {
      proxy.blockWebSockets(false);
      const a = await reloadOnce(onAllowed, url);
      proxy.blockWebSockets(true);
      const b = await reloadOnce(onBlocked, url);
      if (!b.lines.includes('websocket blocked here lately: starting on long-polling'))
        throw new Error(`reload ${i + 1} did not start on long-polling: ${b.lines.join('; ')}`);
      const c = await reloadOnce(onBlocked, `${url}?memo=0`);
      if (a.transport !== 'websocket' || b.transport !== 'polling')
        throw new Error(`reload ${i + 1} on ${a.transport} / ${b.transport}`);
      if (c.transport !== 'polling') odd.push({ ...c, lines: undefined });
      allowed.push(a.at);
      blocked.push(b.at);
      noMemo.push(c.at);
    }
    const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
    log(
      `first state after reload: allowed ${fmt(allowed)} ms; blocked ${fmt(blocked)} ms; blocked, no memo ${fmt(noMemo)} ms`,
    );
    const base = median(allowed);
    return entry('reload_on_blocked_ws_ms', median(blocked), 'ms', ['<=', Math.round(1.2 * base)], {
      baseline: base,
      baseline_unit: 'ms, the same reload with WebSockets allowed; goal 1.2 × it',
      ratio: median(blocked) / base,
      detail: {
        reloads: rounds,
        without_memo_ms: Number(median(noMemo).toFixed(1)),
        without_memo_odd: odd,
        blocked_min_ms: Number(Math.min(...blocked).toFixed(1)),
        blocked_max_ms: Number(Math.max(...blocked).toFixed(1)),
        browser: browser.version(),
      },
    });
  } finally {
    await browser.close();
    await proxy.close();
    await server.close();
  }
}

export async function run({ quick, log }) {
  const runs = 5;
  const rnd = seededRandom(13);
  const maxHold = quick ? 2000 : 5000;
  const results = [];
  for (let i = 0; i < runs; i++) {
    const hold = Math.round(rnd() * maxHold);
    const r = await blockAndLift(hold);
    results.push({ hold_ms: hold, ...r });
    if (r.resyncs) throw new Error(`run ${i + 1}: the move caused a full resync`);
  }
  const ms = results.map((r) => r.ms);
  log(
    `back on websocket ${ms.map((x) => x.toFixed(0)).join(', ')} ms after the lift (holds ${results.map((r) => r.hold_ms).join(', ')} ms)`,
  );
  return [
    entry('ws_back_after_block_ms', median(ms), 'ms', ['<=', 5000], {
      detail: {
        runs,
        min_ms: Number(Math.min(...ms).toFixed(1)),
        max_ms: Number(Math.max(...ms).toFixed(1)),
        holds_ms: results.map((r) => r.hold_ms),
        probes_while_blocked: results.map((r) => r.probes_while_blocked),
      },
    }),
    await reloads({ quick, log }),
  ];
}

benchMain(import.meta.url, run);
