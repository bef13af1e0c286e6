// syncwire/tabs in Chromium: five pages of one browser context (one origin: one BroadcastChannel
// and one Web Lock between them), each running test/e2e/pages/tabs.js (bundled with vite against
// dist/ through package.json `exports`): a shared store (Agent Zero model, cache in IndexedDB) on
// the reference server's /state_sync.
//
// tabs_server_connections: /state_sync connections the server has open with the five tabs
// open and settled (the most seen at any settled moment of the run). Goal 1.
//
// follower_lag_ms: p99 over many server changes (a notification or a log line, alternately,
// one at a time) of a follower's subscriber notification of the new state − the leader's own
// subscriber notification of the same state; both read `performance.timeOrigin +
// performance.now()` in their page (one machine, one wall clock). Baseline, at the same moments:
// a raw BroadcastChannel hop between the same pages (the leader page posts the state's summary
// on a channel of its own right after its notification: ?raw=1).
//
// leader_failover_ms: median over 10 failovers of: the leader page closed (`page.close()`;
// the clock read just before) → another tab's own store HEALTHY (its subscriber told of mode
// HEALTHY with role 'leader' and its own client connected: until then it shows the mirrored
// mode). Each failover must resume on the same epoch without a full state request, or the run
// fails; a fresh page then joins, so there are five tabs again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/ensure-chromium.mjs';
import { bundlePage } from './lib/bundle-page.mjs';
import { benchMain } from './lib/module.mjs';
import { entry, median, percentile, seededRandom, sleep, wallNow } from './lib/util.mjs';

const TABS = 5;

const summaryKey = (s) => `${s.nv}/${s.lv}/${s.logs}/${s.chats}`;
const view = (page) => page.evaluate(() => window.__tabs.view());
const notesOf = (page) => page.evaluate(() => window.__tabs.notes);
const ownHealthy = (n) => n.role === 'leader' && n.mode === 'HEALTHY' && n.connected;

/** Polls `read` until `ok` holds of its value; rejects after `timeoutMs`. */
async function until(read, ok, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end)
      throw new Error(`${what}: not within ${timeoutMs} ms (${JSON.stringify(v)})`);
    await sleep(5);
  }
}

export async function run({ quick, log }) {
  const changes = quick ? 60 : 300;
  const failovers = quick ? 4 : 10;
  const dir = mkdtempSync(join(tmpdir(), 'syncwire-tabs-bench-'));
  const path = await bundlePage('test/e2e/pages/tabs.js', dir);
  const server = await createReferenceServer({ staticRoot: dir });
  const chat = server.world.addChat('tabs bench');
  server.world.appendLog(chat, { content: 'first line' });
  const browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
  const pageErrors = [];
  try {
    const context = await browser.newContext();
    const pages = [];
    const open = async () => {
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${server.url}${path}?channel=bench&raw=1&ctx=${chat}`);
      await page.evaluate(() => window.__tabs.started);
      pages.push(page);
    };
    const serverSummary = () => {
      const s = server.world.buildSnapshot({
        context: chat,
        log_from: 0,
        notifications_from: 0,
        timezone: 'UTC',
      });
      const out = {
        nv: s.notifications_version,
        lv: s.log_version,
        logs: s.logs.length,
        chats: s.contexts.length,
      };
      return out;
    };
    /** Every tab has shown the server's state; one leads, HEALTHY on its own connection. */
    const settle = async () => {
      const want = serverSummary();
      await Promise.all(pages.map((p) => p.evaluate((w) => window.__tabs.shows(w), want)));
      const vs = await until(
        () => Promise.all(pages.map(view)),
        (vs) =>
          vs.filter((v) => v.role === 'leader').length === 1 &&
          vs.every((v) => v.mode === 'HEALTHY' && summaryKey(v) === summaryKey(want)),
        10000,
        'five tabs settled',
      );
      return pages[vs.findIndex((v) => v.role === 'leader')];
    };
    for (let i = 0; i < TABS; i++) await open();
    let leader = await settle();
    const connections = [server.stats.connections];

    // Follower lag: one change at a time, every tab shows it before the next.
    const rnd = seededRandom(16);
    const keys = [];
    for (let i = 0; i < changes; i++) {
      if (i % 2) server.world.appendLog(chat, { content: `line ${i}` });
      else server.world.notify(`change ${i}`);
      const want = serverSummary();
      keys.push(summaryKey(want));
      await Promise.all(pages.map((p) => p.evaluate((w) => window.__tabs.shows(w), want)));
      if (i % 10 === 0) connections.push(server.stats.connections);
      await sleep(Math.round(rnd() * 20)); // the next change anywhere in the next timer ticks
    }
    connections.push(server.stats.connections);
    const all = await Promise.all(pages.map(notesOf));
    const raws = await Promise.all(pages.map((p) => p.evaluate(() => window.__tabs.raw)));
    const hops = [];
    const firstOf = (notes, key) => notes.find((n) => summaryKey(n) === key && n.type !== 'mode');
    const lags = [];
    let missing = 0;
    for (const key of keys) {
      const led = firstOf(
        all[pages.indexOf(leader)].filter((n) => n.role === 'leader'),
        key,
      );
      if (!led) throw new Error(`the leader never notified of ${key}`);
      for (const [i, notes] of all.entries()) {
        if (pages[i] === leader) continue;
        const seen = firstOf(notes, key);
        if (seen) lags.push(seen.at - led.at);
        else missing++;
        const hop = raws[i].find((r) => summaryKey(r) === key);
        if (hop) hops.push(hop.at - led.at);
      }
    }
    if (missing) throw new Error(`${missing} follower notifications missing`);
    if (hops.length !== lags.length)
      throw new Error(`${lags.length - hops.length} raw hops missing`);
    const fmt = (xs) =>
      `median ${median(xs).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`;
    log(
      `follower lag over ${keys.length} changes × ${TABS - 1} followers: ${fmt(lags)}; raw BroadcastChannel hop: ${fmt(hops)}; server connections ${[...new Set(connections)].join(', ')}`,
    );

    // Failovers: close the leader; another tab takes the lock and resumes.
    const runs = [];
    for (let i = 0; i < failovers; i++) {
      const epoch = (await view(leader)).epoch;
      const full = server.stats.fullStateRequests;
      pages.splice(pages.indexOf(leader), 1);
      const t0 = wallNow();
      await leader.close();
      const next = await until(
        async () => {
          const vs = await Promise.all(pages.map(view));
          const i = vs.findIndex((v) => v.role === 'leader');
          return i < 0 ? null : pages[i];
        },
        Boolean,
        10000,
        'a new leader',
      );
      const notes = await until(
        () => notesOf(next),
        (ns) => ns.some(ownHealthy),
        10000,
        "the new leader's own store HEALTHY",
      );
      const elected = notes.find((n) => n.role === 'leader');
      const healthy = notes.find(ownHealthy);
      const v = await view(next);
      if (v.epoch !== epoch || server.stats.fullStateRequests !== full)
        throw new Error(
          `failover ${i + 1}: epoch ${epoch} → ${v.epoch}, full state requests ${full} → ${server.stats.fullStateRequests}`,
        );
      runs.push({ elected_ms: elected.at - t0, healthy_ms: healthy.at - t0 });
      leader = next;
      await open();
      server.world.notify(`after failover ${i + 1}`);
      leader = await settle();
      await until(
        async () => server.stats.connections,
        (n) => n === 1,
        5000,
        'one connection again',
      );
      connections.push(server.stats.connections);
    }
    const healthy = runs.map((r) => r.healthy_ms);
    const elected = runs.map((r) => r.elected_ms);
    log(
      `failover: role taken ${elected.map((x) => x.toFixed(0)).join(', ')} ms; own store HEALTHY ${healthy.map((x) => x.toFixed(0)).join(', ')} ms after the close`,
    );
    const views = await Promise.all(pages.map(view));
    const errors = [...pageErrors, ...views.flatMap((v) => v.errors)];
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    const r1 = (x) => Number(x.toFixed(1));
    return [
      entry('tabs_server_connections', Math.max(...connections), 'connections', ['<=', 1], {
        detail: { tabs: TABS, samples: connections.length, min: Math.min(...connections) },
      }),
      entry('leader_failover_ms', median(healthy), 'ms', ['<=', 1000], {
        note: `role taken: median ${r1(median(elected))} ms`,
        detail: {
          failovers,
          min_ms: r1(Math.min(...healthy)),
          max_ms: r1(Math.max(...healthy)),
          role_taken_median_ms: r1(median(elected)),
          role_taken_max_ms: r1(Math.max(...elected)),
          runs: runs.map((r) => ({ elected_ms: r1(r.elected_ms), healthy_ms: r1(r.healthy_ms) })),
          browser: browser.version(),
        },
      }),
      entry('follower_lag_ms', percentile(lags, 99), 'ms', ['<=', 16], {
        baseline: percentile(hops, 99),
        baseline_unit: 'ms, p99 of a raw BroadcastChannel hop between the same pages',
        ratio: percentile(lags, 99) / percentile(hops, 99),
        note: `median ${median(lags).toFixed(2)} ms (raw hop ${median(hops).toFixed(2)} ms), max ${Math.max(...lags).toFixed(2)} ms`,
        detail: {
          changes: keys.length,
          followers: TABS - 1,
          samples: lags.length,
          median_ms: Number(median(lags).toFixed(2)),
          max_ms: Number(Math.max(...lags).toFixed(2)),
          raw_hop_median_ms: Number(median(hops).toFixed(2)),
          raw_hop_max_ms: Number(Math.max(...hops).toFixed(2)),
        },
      }),
    ];
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

benchMain(import.meta.url, run);
