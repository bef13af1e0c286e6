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

describe('demo page: what it explains (issue 15)', () => {
  const text = (selector: string) => page.textContent(selector).then((t) => t ?? '');
  const note = (fault: string) =>
    text(`[data-fault-note="${fault}"]`).then((t) => t.replace(/\s+/g, ' ').trim());
  const countdownSeconds = async (fault: string) =>
    Number(/in (\d+\.\d) s/.exec(await note(fault))?.[1] ?? NaN);
  const firstChatId = () => {
    const [id] = server.world.chats.keys();
    if (!id) throw new Error('the world has no chat');
    return id;
  };
  const selectChat = async (name: string) => {
    await page.click(`#chats li button >> text="${name}"`);
    await page.waitForFunction(
      (n) => document.querySelector('#log')?.closest('.panel')?.textContent?.includes(n),
      name,
    );
  };

  it('says what a timed fault does and counts down to the timer it waits on', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    expect(await text('#freshness')).toBe('live');

    // Silence pushes: nothing changes at once; the line names the liveness audit and counts it down.
    await click('silencePushes');
    await page.waitForSelector('[data-fault-note="silencePushes"]');
    expect(await note('silencePushes')).toContain('Nothing changes yet');
    expect(await note('silencePushes')).toContain('livenessMs (2.0 s)');
    const first = await countdownSeconds('silencePushes');
    expect(first).toBeLessThanOrEqual(2);
    await expect.poll(() => countdownSeconds('silencePushes')).toBeLessThan(first);

    // The state moves on, so the audit handshakes again: the handshake's own timer is shown,
    // and the freshness never says "live" outside HEALTHY.
    server.world.addChat('moved on while silent');
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-fault-note="silencePushes"]')
          ?.textContent?.includes('handshake times out in'),
      null,
      { timeout: 10000 },
    );
    await waitMode('DEGRADED');
    expect(await text('#freshness')).toMatch(/^state \d+\.\d s old$/);
    expect(await note('silencePushes')).toContain('Polling every 0.3 s');
    // The timeline names the failure once, with the store's message instead of its code again.
    const degraded = await text('#timeline li:first-of-type');
    expect(degraded).toContain('handshake failed: no snapshot after the handshake ack');
    expect(degraded).not.toContain('HANDSHAKE_FAILED');
    await click('silencePushes');
    await waitMode('HEALTHY');
    expect(await page.$('[data-fault-note="silencePushes"]')).toBeNull();

    // Stall handshakes and fail polls while HEALTHY: the line says why nothing happens yet.
    await click('stallHandshakes');
    await page.waitForSelector('[data-fault-note="stallHandshakes"]');
    expect(await note('stallHandshakes')).toContain('The next handshake');
    await page.click('#chats li button');
    await page.waitForFunction(() =>
      document
        .querySelector('[data-fault-note="stallHandshakes"]')
        ?.textContent?.includes('handshake times out in'),
    );
    await click('stallHandshakes');
    await waitMode('HEALTHY');
    await click('failPolls');
    await page.waitForSelector('[data-fault-note="failPolls"]');
    expect(await note('failPolls')).toMatch(/Nothing changes now.*liveness audit in \d+\.\d s/);
    await click('failPolls');
  });

  it('a one-shot fault says what to expect until the store shows it', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    await click('injectGap');
    await page.waitForSelector('[data-fault-note="injectGap"]:not(.done)');
    expect(await note('injectGap')).toContain('resyncs');
    server.world.addChat('reveals the gap');
    await page.waitForSelector('[data-fault-note="injectGap"].done', { timeout: 10000 });
    expect(await note('injectGap')).toContain('seen: resync after the gap');
  });

  it('shows the last error, the counters, and why seq went back', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    expect(await text('#last-error')).toBe('none');

    // A few pushes in this period, then a resync: seq restarts, and the page says why.
    for (const n of [1, 2, 3]) {
      server.world.addChat(`push ${n}`);
      await page.waitForFunction(
        (want) => Number(document.getElementById('seq')?.textContent) >= want,
        n + 1,
      );
    }
    await page.click('#chats li button');
    await page.waitForSelector('#seq-note:not([style*="none"])');
    expect(await text('#seq-note')).toMatch(/seq \d+ → \d+: a resync started a new push period/);
    await click('bumpEpoch');
    server.world.addChat('in the new epoch');
    await page.waitForFunction(
      () => document.getElementById('seq-note')?.textContent?.includes('new epoch'),
      null,
      { timeout: 10000 },
    );

    // Failing polls: the error's code and message, and the counters as the store counts them.
    await click('blockTransports');
    await waitMode('DEGRADED');
    await click('failPolls');
    await page.waitForFunction(
      () => document.getElementById('last-error')?.textContent?.startsWith('POLL_FAILED: '),
      null,
      { timeout: 10000 },
    );
    await click('failPolls');
    await click('blockTransports');
    await waitMode('HEALTHY', 20000);
    const shown = async () =>
      Object.fromEntries(
        await page.$$eval('#counters [data-counter]', (els) =>
          els.map((e) => [
            (e as HTMLElement).dataset.counter,
            Number(e.querySelector('code')?.textContent),
          ]),
        ),
      );
    const c = (await health()).counters as Record<string, number>;
    expect(Object.keys(await shown())).toEqual([
      'applied',
      'dropped',
      'resyncs',
      'polls',
      'handshakes',
    ]);
    await expect
      .poll(async () => {
        const h = (await health()).counters as Record<string, number>;
        const s = await shown();
        return [
          s.applied === h.pushesApplied,
          s.dropped === h.pushesDropped,
          s.resyncs === h.resyncs,
          s.polls === h.polls,
          s.handshakes === h.handshakes,
        ];
      })
      .toEqual([true, true, true, true, true]);
    expect(c.polls).toBeGreaterThan(0);
    expect(c.resyncs).toBeGreaterThan(0);
    // The mode and the error are announced to screen readers.
    expect(
      await page.$eval('#mode', (e) => e.closest('[aria-live]')?.getAttribute('aria-live')),
    ).toBe('polite');
    expect(await page.getAttribute('#last-error', 'aria-live')).toBe('polite');
    expect(await page.$$eval('#legend dt', (els) => els.map((e) => e.textContent?.trim()))).toEqual(
      ['DISCONNECTED', 'HANDSHAKE_PENDING', 'HEALTHY', 'DEGRADED', 'FAILED'],
    );
  });

  it('numbers the log by the server item numbers, readable past 9, following the newest item', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    const chatId = firstChatId();
    await selectChat(server.world.chat(chatId).name);
    for (let i = 0; i < 30; i++)
      server.world.appendLog(chatId, { heading: `item ${i}`, content: 'x' });
    const last = server.world.chat(chatId).log.items.length - 1;
    await page.waitForSelector(`#log [data-no="${last}"]`, { timeout: 10000 });
    const rows = await page.$$eval('#log li', (els) =>
      els.map((li) => {
        const no = li.querySelector('.no') as HTMLElement;
        const list = li.closest('#log') as HTMLElement;
        return {
          no: Number(li.dataset.no),
          shown: no.textContent,
          clipped:
            no.scrollWidth > no.clientWidth ||
            no.getBoundingClientRect().left < list.getBoundingClientRect().left,
        };
      }),
    );
    expect(rows.map((r) => r.shown)).toEqual(rows.map((r) => String(r.no)));
    expect(rows.some((r) => r.no >= 10)).toBe(true);
    expect(rows.filter((r) => r.clipped)).toEqual([]);
    const atBottom = () =>
      page.$eval('#log', (el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 2);
    await expect.poll(atBottom).toBe(true);
    server.world.appendLog(chatId, { heading: 'newest', content: 'x' });
    await page.waitForSelector(`#log [data-no="${last + 1}"]`);
    await expect.poll(atBottom).toBe(true);
    // Scrolled up to read: a new item leaves the reader where they are.
    await page.$eval('#log', (el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    server.world.appendLog(chatId, { heading: 'newer', content: 'x' });
    await page.waitForSelector(`#log [data-no="${last + 2}"]`);
    expect(await page.$eval('#log', (el) => el.scrollTop)).toBe(0);
  });

  it('shows store.state as read-only JSON, bounded, only when opened', async () => {
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    expect(await text('#state-json')).toBe('');
    await page.click('#state-viewer summary');
    await page.waitForFunction(
      () => (document.getElementById('state-json')?.textContent ?? '').length > 0,
    );
    const shown = JSON.parse(await text('#state-json')) as { contexts: { name: string }[] };
    expect(shown.contexts.map((c) => c.name)).toEqual(serverChats());
    // A state too big to show whole: cut, saying how much is left out.
    const chatId = firstChatId();
    await selectChat(server.world.chat(chatId).name);
    for (let i = 0; i < 100; i++)
      server.world.appendLog(chatId, { heading: `big ${i}`, content: 'y'.repeat(300) });
    await page.waitForFunction(
      () => /… \d+ more characters$/.test(document.getElementById('state-json')?.textContent ?? ''),
      null,
      { timeout: 10000 },
    );
    expect((await text('#state-json')).length).toBeLessThan(20100);
    expect(await page.$eval('#state-json', (e) => (e as HTMLElement).isContentEditable)).toBe(
      false,
    );
  });

  it('fits a 360 px wide screen, console, legend and state viewer open', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(server.url + DEMO);
    await waitMode('HEALTHY');
    await page.click('#console-toggle');
    await page.click('#legend summary');
    await page.click('#state-viewer summary');
    await click('stallHandshakes');
    server.world.addChat('a chat with a rather long name that could widen a narrow page');
    await page.waitForSelector('#console tr');
    await page.waitForSelector('[data-fault-note="stallHandshakes"]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      360,
    );
    await shot('demo-360');
  });
});

describe('demo with ?tabs=shared (issue 16)', () => {
  const SHARED = DEMO + '&tabs=shared';
  const roleOf = (p: Page) => p.textContent('#role');
  const waitRole = (p: Page, role: string) =>
    p.waitForFunction((want) => document.getElementById('role')?.textContent === want, role, {
      timeout: 15000,
    });
  const waitModeOn = (p: Page, m: string) =>
    p.waitForFunction((want) => document.getElementById('mode')?.textContent === want, m, {
      timeout: 15000,
    });
  const chatsOn = (p: Page) => p.$$eval('#chats li button', (els) => els.map((e) => e.textContent));
  type Shared = {
    state: { context: string };
    health: { counters: { resyncs: number } };
    resync(reason: string): void;
  };
  const shared = (p: Page) => ({
    context: () =>
      p.evaluate(
        () =>
          (window as unknown as { __syncwire: { store: Shared } }).__syncwire.store.state.context,
      ),
    resyncs: () =>
      p.evaluate(
        () =>
          (window as unknown as { __syncwire: { store: Shared } }).__syncwire.store.health.counters
            .resyncs,
      ),
    resync: () =>
      p.evaluate(() =>
        (window as unknown as { __syncwire: { store: Shared } }).__syncwire.store.resync(
          'from the follower',
        ),
      ),
  });

  it('two tabs share one store: one leads, the other follows with the same state, and takes over', async () => {
    // One browser context: the tabs of one profile, which share BroadcastChannel and Web Locks.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const first = await context.newPage();
      first.on('pageerror', (e) => console.error('first page error:', e.message));
      await first.goto(server.url + SHARED);
      await waitRole(first, 'leader');
      await waitModeOn(first, 'HEALTHY');
      const second = await context.newPage();
      second.on('pageerror', (e) => console.error('second page error:', e.message));
      await second.goto(server.url + SHARED);
      await waitModeOn(second, 'HEALTHY');
      expect([await roleOf(first), await roleOf(second)]).toEqual(['leader', 'follower']);
      expect(await second.textContent('#sharing')).toBe('locks');
      expect((await second.textContent('#tabs-note'))?.replace(/\s+/g, ' ')).toContain(
        'a follower shows its state',
      );
      // Only the leader connects.
      expect(server.stats.connections).toBe(1);

      // Both show the same state, and follow it.
      server.world.addChat('seen by both tabs');
      for (const p of [first, second])
        await expect.poll(() => chatsOn(p), { timeout: 10000 }).toEqual(serverChats());
      expect(await second.textContent('#epoch')).toBe(server.runtime.id);

      // A chat picked in the follower: the leader asks for it, and both tabs show its log.
      const name = await second.textContent('#chats li button');
      const chatId = [...server.world.chats].find(([, c]) => c.name === name)?.[0];
      expect(chatId).toBeDefined();
      await second.click('#chats li button');
      for (const p of [first, second])
        await expect.poll(() => shared(p).context(), { timeout: 10000 }).toBe(chatId);

      // A follower's resync runs on the leader's store; a server-side fault works from it too.
      const before = await shared(first).resyncs();
      await shared(second).resync();
      await expect.poll(() => shared(first).resyncs(), { timeout: 10000 }).toBeGreaterThan(before);
      await second.click('[data-fault="bumpEpoch"]');
      server.world.addChat('in a new epoch');
      for (const p of [first, second])
        await p.waitForFunction(
          (id) => document.getElementById('epoch')?.textContent === id,
          server.runtime.id,
          { timeout: 10000 },
        );

      // The follower fits a narrow screen, role and all.
      await second.setViewportSize({ width: 360, height: 740 });
      expect(await second.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        360,
      );

      // The leader's tab closes: the follower takes over, connects, and stays live.
      await first.close();
      await waitRole(second, 'leader');
      await waitModeOn(second, 'HEALTHY');
      server.world.addChat('after the leader left');
      await expect.poll(() => chatsOn(second), { timeout: 10000 }).toEqual(serverChats());
      await expect.poll(() => server.stats.connections, { timeout: 10000 }).toBe(1);
    } finally {
      await context.close();
    }
  });
});
