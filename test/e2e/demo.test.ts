import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createReferenceServer,
  type ReferenceServer,
} from '../../demo/server/reference-server.mjs';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/ensure-chromium.mjs';

const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
const STATIC = fileURLToPath(new URL('../../demo/public/', import.meta.url));

let browser: Browser;
let server: ReferenceServer;
let page: Page;

// The demo's own settings (Origin and CSRF cookie checks on), with a short liveness
// window passed through the page URL so a silent channel shows within the test.
const DEMO = '/?livenessMs=2000';

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  server = await createReferenceServer({
    staticRoot: STATIC,
    faultApi: true,
    allowMissingOrigin: false,
    requireCsrfCookie: true,
    cors: false,
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
});
afterEach(async () => {
  await page?.close();
  await server?.close();
});

const mode = () => page.textContent('#mode');
const waitMode = async (m: string, timeout = 15000) => {
  try {
    await page.waitForFunction((want) => document.getElementById('mode')?.textContent === want, m, {
      timeout,
    });
  } catch (e) {
    const h = await health().catch(() => null);
    throw new Error(
      `mode never became ${m}; health: ${JSON.stringify(h)}; rejections: ${JSON.stringify(server.stats.rejections.slice(-3))}`,
      { cause: e },
    );
  }
};
const health = () =>
  page.evaluate(
    () =>
      (window as unknown as { __syncwire: { store: { health: Record<string, unknown> } } })
        .__syncwire.store.health,
  );
const chats = () => page.$$eval('#chats li button', (els) => els.map((e) => e.textContent));
const serverChats = () =>
  (
    server.world.buildSnapshot({
      context: null,
      log_from: 0,
      notifications_from: 0,
      timezone: 'UTC',
    }).contexts as { name: string }[]
  ).map((c) => c.name);
const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
const click = (fault: string) => page.click(`[data-fault="${fault}"]`);
const converge = () => expect.poll(chats, { timeout: 10000 }).toEqual(serverChats());
/** Runs the page harness's automatic suite: all 10 items must pass. */
const runHarnessSuite = async () => {
  await page.click('#run-suite');
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('[data-status]')].every((e) =>
        ['pass', 'fail'].includes((e as HTMLElement).dataset.status ?? ''),
      ),
    null,
    { timeout: 90000 },
  );
  const failed = await page.$$eval('[data-status="fail"]', (els) =>
    els.map((e) => e.textContent?.replace(/\s+/g, ' ')),
  );
  expect(failed).toEqual([]);
  expect(await page.$$eval('[data-status="pass"]', (els) => els.length)).toBe(10);
};

describe('demo in real Chromium', () => {
  it('shows live state, HEALTHY, and follows server changes', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    await converge();
    server.world.addChat('Added while watching');
    await converge();
    expect(await page.textContent('#epoch')).toBe(server.runtime.id);
    await shot('demo-healthy');
  });

  it('passes every item of the harness automatic suite', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    await runHarnessSuite();
    await shot('demo-harness');
  });

  it("passes the harness suite against current Agent Zero's /api/ routes, connecting on the first attempt", async () => {
    // The server's /api/ layout: the token route sets a session cookie that the Engine.IO
    // handshake requires. The page asks for the routes by settings alone (?routes=api).
    await server.close();
    server = await createReferenceServer({
      staticRoot: STATIC,
      faultApi: true,
      allowMissingOrigin: false,
      requireCsrfCookie: true,
      cors: false,
      routes: 'api',
    });
    await page.goto(server.url + DEMO + '&routes=api');
    await waitMode('HEALTHY');
    expect(server.stats.rejections).toEqual([]);
    await runHarnessSuite();
  });

  it('recovers from each push-channel fault driven from the fault panel', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');

    for (const fault of ['dropPushes', 'injectGap'] as const) {
      const before = (await health()).counters as { resyncs: number };
      await click(fault);
      server.world.addChat(`after ${fault}`);
      await page.waitForTimeout(100); // past the 25 ms push throttle: a second push reveals a lost one
      server.world.notify(`revealing ${fault}`);
      await expect
        .poll(async () => ((await health()).counters as { resyncs: number }).resyncs, {
          timeout: 10000,
        })
        .toBeGreaterThan(before.resyncs);
      await waitMode('HEALTHY');
      await converge();
    }

    const dropped = ((await health()).counters as { pushesDropped: number }).pushesDropped;
    await click('stalePush');
    await expect
      .poll(async () => ((await health()).counters as { pushesDropped: number }).pushesDropped)
      .toBeGreaterThan(dropped);
    expect(await mode()).toBe('HEALTHY');

    await click('bumpEpoch');
    server.world.addChat('after a new epoch');
    await page.waitForFunction(
      (id) => document.getElementById('epoch')?.textContent === id,
      server.runtime.id,
      { timeout: 10000 },
    );
    await waitMode('HEALTHY');

    await click('restart');
    await page.waitForFunction(
      (id) => document.getElementById('epoch')?.textContent === id,
      server.runtime.id,
      { timeout: 15000 },
    );
    await waitMode('HEALTHY');
    await converge();

    // Stalled handshakes: the next handshake (a chat switch) times out and the page degrades to polling.
    await click('stallHandshakes');
    await page.click('#chats li button');
    await waitMode('DEGRADED');
    server.world.addChat('seen through polling');
    await converge();
    expect(await page.textContent('#source')).toBe('poll');
    await shot('demo-degraded');
    await click('stallHandshakes');
    await waitMode('HEALTHY');

    // A silent push channel is noticed within livenessMs (2 s here) and the state still catches up.
    await click('silencePushes');
    server.world.addChat('pushed into the void');
    await page.waitForFunction(
      () => document.getElementById('mode')?.textContent !== 'HEALTHY',
      null,
      { timeout: 10000 },
    );
    await converge();
    await click('silencePushes');
    await waitMode('HEALTHY');

    // No WebSocket at all: state through polling; failing polls keep the last good state.
    await click('blockTransports');
    await waitMode('DEGRADED');
    server.world.addChat('while blocked');
    await converge();
    await click('failPolls');
    await expect
      .poll(async () => ((await health()).lastError as { code: string } | null)?.code, {
        timeout: 10000,
      })
      .toBe('POLL_FAILED');
    expect(await chats()).toEqual(serverChats());
    await click('failPolls');
    await click('blockTransports');
    await waitMode('HEALTHY', 20000);
    await converge();
    await shot('demo-recovered');
  });

  it('a reload shows the cached state before the network answers (warm start, real IndexedDB)', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    await converge();
    await page.waitForTimeout(1200); // the throttled save (1 s) lands
    server.faults.stallHandshakes(true);
    server.faults.slowPolls(10000);
    await page.reload();
    await page.waitForFunction(
      () => document.getElementById('source')?.textContent === 'cache',
      null,
      { timeout: 5000 },
    );
    expect(await chats()).toEqual(serverChats());
    expect(await mode()).not.toBe('HEALTHY');
    await shot('demo-warm-start');
    server.faults.reset();
  });

  it('a hidden tab stops polling and polls again when visible', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    server.faults.blockTransports(true);
    await waitMode('DEGRADED');
    const hide = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, 'visibilityState', {
          configurable: true,
          get: () => (h ? 'hidden' : 'visible'),
        });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await hide(true);
    await page.waitForTimeout(500);
    const polls = server.stats.polls;
    await page.waitForTimeout(1500);
    expect(server.stats.polls).toBe(polls);
    await hide(false);
    await expect.poll(() => server.stats.polls, { timeout: 2000 }).toBeGreaterThan(polls);
  });

  it('renders server data as text, never as HTML', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    server.world.addChat('<img src=x onerror="window.__pwned=1">');
    await converge();
    expect(await page.$$('#chats img')).toHaveLength(0);
    expect(
      await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
  });

  it('the script-tag page works with the IIFE builds only', async () => {
    await page.goto(server.url + '/iife.html');
    await waitMode('HEALTHY');
    await expect
      .poll(() => page.$$eval('#chats li', (els) => els.length), { timeout: 10000 })
      .toBe(serverChats().length);
    await shot('iife-page');
  });
});
