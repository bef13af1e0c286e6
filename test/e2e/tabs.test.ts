// syncwire/tabs in real Chromium: five pages of one browser context (one origin, so one
// BroadcastChannel and one Web Lock between them) each run test/e2e/pages/tabs.js, a shared
// store on the reference server's /state_sync with a warm-start cache in IndexedDB. One tab
// leads and holds the only connection; the others show its state, have their calls carried
// out by it, and one of them takes over when it goes: closed (with and without beforeunload)
// or crashed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createReferenceServer,
  type ReferenceServer,
} from '../../demo/server/reference-server.mjs';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/ensure-chromium.mjs';
import { bundlePages } from '../helpers/bundle-pages';

const TABS = 5;
/** Follower notification − leader notification, same state (the bound). */
const MAX_LAG_MS = 50;
/** Leader page gone → another tab's store has the role (the bound). */
const MAX_FAILOVER_MS = 1000;

const pagesDir = mkdtempSync(join(tmpdir(), 'syncwire-tabs-pages-'));

/** What the page records (test/e2e/pages/tabs.js). */
interface Summary {
  nv: number;
  lv: number;
  logs: number;
  chats: number;
}
interface Note extends Summary {
  at: number;
  type: string;
  role: string;
  mode: string;
  connected: boolean;
  from?: string;
  to?: string;
}
interface View extends Summary {
  role: string;
  sharing: string;
  mode: string;
  healthRole: string;
  epoch: string | null;
  source: string | null;
  writes: number;
  notes: number;
  errors: string[];
}
interface Settled {
  ok: boolean;
  at: number;
  code?: string;
  result?: { ok: boolean; data?: unknown; error?: { code: string } } | null;
}
interface PageTabs {
  view(): View;
  notes: Note[];
  calls: Record<number, { role: string; settled: Settled | null }>;
  call(event: string, data: object, options?: object): number;
  started: Promise<boolean>;
}
type W = { __tabs: PageTabs };

interface Tab {
  name: string;
  page: Page;
}

let browser: Browser;
let context: BrowserContext;
let server: ReferenceServer;
let chat: string;
let tabs: Tab[];
let pageErrors: string[];

/** The wall clock, as the pages read it (performance.timeOrigin + performance.now()). */
const now = () => performance.timeOrigin + performance.now();

beforeAll(async () => {
  await bundlePages(['tabs'], pagesDir);
  browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
  rmSync(pagesDir, { recursive: true, force: true });
});
beforeEach(async () => {
  server = await createReferenceServer({ staticRoot: pagesDir, testHandlersOn: ['/state_sync'] });
  chat = server.world.addChat('tabs e2e');
  server.world.appendLog(chat, { content: 'first line' });
  context = await browser.newContext();
  tabs = [];
  pageErrors = [];
  for (let i = 0; i < TABS; i++) await openTab(`t${i}`);
});
afterEach(async () => {
  await context?.close();
  await server?.close();
});

async function openTab(name: string) {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  await page.goto(`${server.url}/tabs.html?ctx=${chat}`);
  await page.evaluate(() => (window as unknown as W).__tabs.started);
  tabs.push({ name, page });
}

const view = (t: Tab) => t.page.evaluate(() => (window as unknown as W).__tabs.view());
const views = () => Promise.all(tabs.map(view));
const notes = (t: Tab) => t.page.evaluate(() => (window as unknown as W).__tabs.notes);

/**
 * The modes a tab's subscribers saw change only with a mode event from the mode they saw last
 * (a role change included): a subscriber that follows mode events never misses a step.
 */
async function expectModeEvents(t: Tab) {
  const ns = await notes(t);
  for (let i = 1; i < ns.length; i++) {
    const [a, b] = [ns[i - 1]!, ns[i]!];
    if (b.type === 'mode')
      expect({ tab: t.name, i, from: b.from }).toEqual({ tab: t.name, i, from: a.mode });
    else if (a.mode !== b.mode)
      throw new Error(
        `${t.name}: mode ${a.mode} → ${b.mode} with a ${b.type} event: ${JSON.stringify(ns)}`,
      );
  }
}

/** Polls `read` until `ok` holds of what it gives (fails at `timeoutMs` with the last value). */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end)
      throw new Error(`not reached within ${timeoutMs} ms; last: ${JSON.stringify(v)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The server's state as a page with `chat` selected shows it. */
const serverSummary = (): Summary => {
  const s = server.world.buildSnapshot({
    context: chat,
    log_from: 0,
    notifications_from: 0,
    timezone: 'UTC',
  });
  return {
    nv: s.notifications_version,
    lv: s.log_version,
    logs: s.logs.length,
    chats: s.contexts.length,
  };
};
const key = (s: Summary) => `${s.nv}/${s.lv}/${s.logs}/${s.chats}`;

/** Every tab shows the server's state, exactly one leads, and it is HEALTHY. */
const settled = (vs: View[]) => {
  const want = key(serverSummary());
  return (
    vs.filter((v) => v.role === 'leader').length === 1 &&
    vs.every((v) => v.mode === 'HEALTHY' && v.source !== null && key(v) === want)
  );
};
const settle = () => until(views, settled);
const ownHealthy = (n: Note) => n.role === 'leader' && n.mode === 'HEALTHY' && n.connected;
const leaderOf = (vs: View[]) => tabs[vs.findIndex((v) => v.role === 'leader')]!;

/**
 * Runs a server change, waits until every tab shows it, and returns each follower's lag:
 * its first notification of that state − the leader's own notification of it.
 */
async function changeAndLags(change: () => void) {
  change();
  const vs = await settle();
  const want = key(serverSummary());
  const leader = leaderOf(vs);
  const all = await Promise.all(tabs.map(notes));
  const first = (ns: Note[]) => ns.find((n) => key(n) === want && n.type !== 'mode');
  const led = first(all[tabs.indexOf(leader)]!.filter((n) => n.role === 'leader'));
  expect(led, `the leader notified of ${want}`).toBeDefined();
  return tabs
    .filter((t) => t !== leader)
    .map((t) => {
      const seen = first(all[tabs.indexOf(t)]!);
      expect(seen, `${t.name} notified of ${want}`).toBeDefined();
      return seen!.at - led!.at;
    });
}

const call = (t: Tab, event: string, data: object, options?: object) =>
  t.page.evaluate(([e, d, o]) => (window as unknown as W).__tabs.call(e, d, o), [
    event,
    data,
    options ?? {},
  ] as const);
const settledCall = (t: Tab, id: number, timeoutMs = 5000) =>
  until(
    () => t.page.evaluate((i) => (window as unknown as W).__tabs.calls[i]!.settled ?? null, id),
    (s): s is Settled => s !== null,
    timeoutMs,
  ) as Promise<Settled>;
/** Each follower's echo, answered through the leader. */
async function expectEchoes(followers: Tab[]) {
  const ids = await Promise.all(followers.map((t) => call(t, 'echo', { from: t.name })));
  const answers = await Promise.all(followers.map((t, i) => settledCall(t, ids[i]!)));
  answers.forEach((a, i) =>
    expect(a).toMatchObject({
      ok: true,
      result: { ok: true, data: { echo: { from: followers[i]!.name } } },
    }),
  );
}

describe('syncwire/tabs in real Chromium, five tabs', () => {
  it("one connection; followers show the leader's state within 50 ms, their calls are answered, and only the leader writes IndexedDB", async () => {
    const vs = await settle();
    expect(server.stats.connections).toBe(1);
    expect(vs.map((v) => v.sharing)).toEqual(Array(TABS).fill('locks'));
    for (const v of vs) expect(v.healthRole).toBe(v.role);
    const leader = leaderOf(vs);
    const followers = tabs.filter((t) => t !== leader);

    const lags: number[] = [];
    for (let i = 0; i < 4; i++) {
      lags.push(...(await changeAndLags(() => server.world.notify(`n${i}`))));
      lags.push(
        ...(await changeAndLags(() => server.world.appendLog(chat, { content: `line ${i}` }))),
      );
    }
    lags.push(...(await changeAndLags(() => server.world.addChat('another chat'))));
    console.log(`follower lag: ${lags.length} samples, max ${Math.max(...lags).toFixed(1)} ms`);
    expect(Math.max(...lags)).toBeLessThanOrEqual(MAX_LAG_MS);

    await expectEchoes(followers);
    // A handler that throws is a failed result in the ack, relayed as the leader got it.
    const failed = await settledCall(followers[0]!, await call(followers[0]!, 'fail', {}));
    expect(failed).toMatchObject({
      ok: true,
      result: { ok: false, error: { code: 'HANDLER_ERROR' } },
    });

    // Only the leader wrote the cache.
    const after = await views();
    expect(after[tabs.indexOf(leader)]!.writes).toBeGreaterThan(0);
    expect(after.filter((v) => v.role === 'follower').reduce((a, v) => a + v.writes, 0)).toBe(0);
    expect(server.stats.connections).toBe(1);
    for (const t of tabs) await expectModeEvents(t);
    expect(after.flatMap((v) => v.errors)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  const ENDINGS = {
    'closed with beforeunload': (p: Page) => p.close({ runBeforeUnload: true }),
    closed: (p: Page) => p.close(),
    'renderer crashed': async (p: Page) => {
      const cdp = await context.newCDPSession(p);
      const crashed = p.waitForEvent('crash');
      // The target crashes under the command: it never answers.
      void cdp.send('Page.crash').catch(() => {});
      await crashed;
    },
  };

  it.each(Object.keys(ENDINGS) as (keyof typeof ENDINGS)[])(
    'leader %s: another tab leads within 1 s, resumes with no full state request, calls in flight settle',
    async (ending) => {
      await settle();
      await changeAndLags(() => server.world.notify('before'));
      const old = leaderOf(await views());
      const followers = tabs.filter((t) => t !== old);
      await expectEchoes(followers);
      const epoch = (await view(old)).epoch;
      const fullBefore = server.stats.fullStateRequests;
      const writesBefore = (await views()).map((v) => v.writes);
      expect(writesBefore.filter((_, i) => tabs[i] !== old).every((w) => w === 0)).toBe(true);

      // A call in flight at the leader when it goes: the last tab's (last in the lock queue).
      const asker = followers.at(-1)!;
      const received = server.stats.received.size;
      const inFlight = await call(asker, 'delayed', { delayMs: 3000 }, { timeoutMs: 10000 });
      await until(
        () => Promise.resolve(server.stats.received.size),
        (n) => n > received,
      );

      const t0 = now();
      await ENDINGS[ending](old.page);
      tabs = followers;
      const led = await until(views, (vs) => vs.some((v) => v.role === 'leader'), 5000);
      const next = leaderOf(led);
      const elected = (await notes(next)).find((n) => n.role === 'leader')!;
      // Its own store HEALTHY: until then it shows the mirrored mode, and its client is not
      // connected yet (only a leader's connects).
      const healthy = await until(async () => (await notes(next)).find(ownHealthy), Boolean, 5000);
      const electedMs = elected.at - t0;
      const healthyMs = healthy!.at - t0;
      console.log(
        `leader ${ending}: role taken after ${electedMs.toFixed(1)} ms, HEALTHY after ${healthyMs.toFixed(1)} ms`,
      );
      expect(electedMs).toBeLessThanOrEqual(MAX_FAILOVER_MS);
      // Connected, handshaken and pushed to as well: headroom for a loaded machine (the bench's
      // leader_failover_ms measures it against the same 1 s).
      expect(healthyMs).toBeLessThanOrEqual(2 * MAX_FAILOVER_MS);

      // The call in flight settled (the leader it went to is gone: DISCONNECTED), long before
      // its own deadline.
      const s = await settledCall(asker, inFlight);
      expect(s.ok || s.code === 'DISCONNECTED', JSON.stringify(s)).toBe(true);
      expect(s.at - t0).toBeLessThan(3000);

      await settle();
      // Same epoch: the new leader resumed from the cursors it mirrored.
      expect((await view(next)).epoch).toBe(epoch);
      expect(server.stats.fullStateRequests).toBe(fullBefore);
      await until(
        () => Promise.resolve(server.stats.connections),
        (n) => n === 1,
      );

      // After: calls answered by the new leader, followers still within the bound, the cache
      // written by the new leader alone.
      await expectEchoes(tabs.filter((t) => t !== next));
      const lags = await changeAndLags(() => server.world.notify('after'));
      expect(Math.max(...lags)).toBeLessThanOrEqual(MAX_LAG_MS);
      lags.push(...(await changeAndLags(() => server.world.appendLog(chat, { content: 'after' }))));
      expect(Math.max(...lags)).toBeLessThanOrEqual(MAX_LAG_MS);
      const after = await views();
      expect(after[tabs.indexOf(next)]!.writes).toBeGreaterThan(0);
      expect(after.filter((v) => v.role === 'follower').reduce((a, v) => a + v.writes, 0)).toBe(0);
      expect(server.stats.fullStateRequests).toBe(fullBefore);
      expect(server.stats.connections).toBe(1);
      for (const t of tabs) await expectModeEvents(t);
      expect(after.flatMap((v) => v.errors)).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
  );
});
