// warm_start_ms: in Chromium, from script start (an inline script at the top of
// the page, before the IIFE build loads) to a cached ~100 KB state rendered
// (DOM built and laid out), using the store's `persist` option on real
// IndexedDB. The first load fills the cache; each measured reload must render
// from the cache before the network's state arrives (checked, not assumed).
// Baseline, loaded alternately: a page without the library that reads the same
// IndexedDB record itself and renders it the same way.
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/ensure-chromium.mjs';
import { benchMain } from './lib/module.mjs';
import { entry, median, sleep } from './lib/util.mjs';

const PAGES = fileURLToPath(new URL('./pages', import.meta.url));

/** Adds log lines to a chat until its full snapshot is `kb` KiB of JSON. */
function fillChat(world, kb) {
  const chat = world.addChat('warm start');
  const request = { context: chat, log_from: 0, notifications_from: 0, timezone: 'UTC' };
  const line = 'The agent reads the request, calls a tool and writes the answer. ';
  while (JSON.stringify(world.buildSnapshot(request)).length < kb * 1024) {
    world.appendLog(chat, { type: 'agent', heading: 'Agent 0: working', content: line.repeat(8) });
  }
  return {
    chat,
    bytes: JSON.stringify(world.buildSnapshot(request)).length,
    items: world.chats.get(chat).log.items.length,
  };
}

/** Waits (bounded) until the page's renders satisfy `done`; returns the page's bench record. */
async function pageRecord(page, done, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const rec = await page.evaluate(
      () => window.__bench && { ...window.__bench, renders: [...window.__bench.renders] },
    );
    if (rec && done(rec)) return rec;
    if (Date.now() > end)
      throw new Error(`page did not get there in ${timeoutMs} ms: ${JSON.stringify(rec)}`);
    await sleep(25);
  }
}

/** True once the store's IndexedDB record exists (the database is only opened after the page created it). */
const cacheWritten = (page) =>
  page.evaluate(async () => {
    const dbs = await indexedDB.databases();
    if (!dbs.some((d) => d.name === 'syncwire')) return false;
    return new Promise((resolve) => {
      const req = indexedDB.open('syncwire');
      req.onerror = () => resolve(false);
      req.onsuccess = () => {
        const db = req.result;
        try {
          const get = db.transaction('state').objectStore('state').get('bench-warm-start');
          get.onsuccess = () => {
            db.close();
            resolve(Boolean(get.result));
          };
          get.onerror = () => {
            db.close();
            resolve(false);
          };
        } catch {
          db.close();
          resolve(false);
        }
      };
    });
  });

export async function run({ quick, log }) {
  const reloads = quick ? 3 : 10;
  const server = await createReferenceServer({ staticRoot: PAGES });
  const { chat, bytes, items } = fillChat(server.world, 100);
  const url = `${server.url}/warm-start.html?ctx=${chat}`;
  const baselineUrl = `${server.url}/warm-baseline.html`;
  const browser = await chromium.launch({
    executablePath: ensureChromium(),
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    // First load: nothing cached; the state comes from the server and is saved (throttled, 1 s by default).
    await page.goto(url);
    await pageRecord(page, (r) => r.renders.some((x) => x.source === 'push' && x.items === items));
    const deadline = Date.now() + 10000;
    while (!(await cacheWritten(page))) {
      if (Date.now() > deadline) throw new Error('the store never wrote its cache');
      await sleep(50);
    }

    const warm = [];
    const baseline = [];
    const details = [];
    for (let i = 0; i < reloads; i++) {
      await page.goto(baselineUrl);
      const base = await pageRecord(page, (r) => r.renders.length > 0 || r.errors.length > 0);
      if (base.errors.length || base.renders[0].items !== items)
        throw new Error(`baseline page failed: ${JSON.stringify(base)}`);
      baseline.push(base.renders[0].at - base.t0);

      await page.goto(url);
      const rec = await pageRecord(page, (r) => r.renders.some((x) => x.source === 'push'));
      const cached = rec.renders.find((x) => x.source === 'cache');
      const pushed = rec.renders.find((x) => x.source === 'push');
      const csrf = await page.evaluate(
        () =>
          performance.getEntriesByType('resource').find((e) => e.name.endsWith('/csrf_token'))
            ?.responseEnd ?? null,
      );
      if (!cached || cached.items !== items || cached.at >= pushed.at) {
        throw new Error(
          `reload ${i + 1} did not render the cached state before the network's: ${JSON.stringify(rec.renders)}`,
        );
      }
      warm.push(cached.at - rec.t0);
      details.push({
        lib_ms: rec.libReady - rec.t0,
        since_navigation_ms: cached.at,
        network_state_ms: pushed.at - rec.t0,
        csrf_answer_ms: csrf === null ? null : csrf - rec.t0,
      });
    }
    if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join('; ')}`);
    const pick = (k) =>
      Number(median(details.map((d) => d[k]).filter((v) => v !== null)).toFixed(1));
    log(
      `cached ${(bytes / 1024).toFixed(0)} KiB state rendered at ${warm.map((w) => w.toFixed(1)).join(', ')} ms after script start; network state at ~${pick('network_state_ms')} ms; IndexedDB alone ${baseline.map((w) => w.toFixed(1)).join(', ')} ms`,
    );
    return [
      entry('warm_start_ms', median(warm), 'ms', ['<=', 50], {
        baseline: Number(median(baseline).toFixed(1)),
        baseline_unit: 'ms, same record read and rendered with plain IndexedDB, no library',
        ratio: median(warm) / median(baseline),
        detail: {
          reloads,
          state_bytes: bytes,
          log_items: items,
          min_ms: Number(Math.min(...warm).toFixed(1)),
          max_ms: Number(Math.max(...warm).toFixed(1)),
          library_loaded_ms: pick('lib_ms'),
          since_navigation_start_ms: pick('since_navigation_ms'),
          network_state_rendered_ms: pick('network_state_ms'),
          csrf_answer_ms: pick('csrf_answer_ms'),
          browser: browser.version(),
        },
      }),
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}

benchMain(import.meta.url, run);
