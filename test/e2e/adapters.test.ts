// The framework adapters in real Chromium: one page per framework (test/e2e/pages/, bundled
// here with vite against dist/), each rendering the reference server's live state through
// syncwire/react, syncwire/vue or syncwire/svelte, and staying live through a fault: every
// transport blocked (the store degrades to /poll), then allowed again (back to HEALTHY on push).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createReferenceServer,
  type ReferenceServer,
} from '../../demo/server/reference-server.mjs';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/ensure-chromium.mjs';
import { bundlePages } from '../helpers/bundle-pages';

const FRAMEWORKS = ['react', 'vue', 'svelte'] as const;
const pages = mkdtempSync(join(tmpdir(), 'syncwire-adapter-pages-'));

let browser: Browser;
let server: ReferenceServer;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  await bundlePages(FRAMEWORKS, pages);
  browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
  rmSync(pages, { recursive: true, force: true });
});
beforeEach(async () => {
  server = await createReferenceServer({ staticRoot: pages });
  server.world.addChat('adapter e2e');
  page = await browser.newPage();
  pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
});
afterEach(async () => {
  await page?.close();
  await server?.close();
});

const text = (id: string) => page.textContent(`#${id}`);
const chats = () => page.$$eval('#chats li', (els) => els.map((e) => e.textContent));
const serverChats = () =>
  (
    server.world.buildSnapshot({
      context: null,
      log_from: 0,
      notifications_from: 0,
      timezone: 'UTC',
    }).contexts as { name: string }[]
  ).map((c) => c.name);
const converge = () => expect.poll(chats, { timeout: 10000 }).toEqual(serverChats());
const waitMode = (mode: string, timeout = 15000) =>
  expect.poll(() => text('mode'), { timeout }).toBe(mode);
const renders = () => page.evaluate(() => (window as { __renders?: number }).__renders ?? 0);
const stateEvents = () =>
  page.evaluate(() => (window as { __stateEvents?: number }).__stateEvents ?? 0);
/**
 * Runs `change` on the server, waits until the page's store has notified its subscribers of the
 * push it causes and the page has had a task to render; returns the renders counted before and
 * after.
 */
const afterNextState = async (change: () => void) => {
  const [before, events] = [await renders(), await stateEvents()];
  change();
  await expect.poll(stateEvents, { timeout: 10000 }).toBeGreaterThan(events);
  // The frameworks render in microtasks after the notification; a task later they are done.
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  return { before, renders: await renders() };
};
const storeMode = () =>
  page.evaluate(() => (window as unknown as { __store: { mode: string } }).__store.mode);

describe.each(FRAMEWORKS)('syncwire/%s in real Chromium', (framework) => {
  it('renders live state, degrades to polling when transports are blocked, and comes back HEALTHY', async () => {
    await page.goto(`${server.url}/${framework}.html`);
    await waitMode('HEALTHY');
    await converge();
    expect(await text('source')).toBe('push');

    server.world.addChat(`${framework}: pushed`);
    await converge();

    // A push that leaves the chat names as they were renders nothing (the selection is equal),
    // one that changes them renders the list again.
    const quiet = await afterNextState(() => server.world.notify('not a chat'));
    expect(quiet.renders).toBe(quiet.before);
    const loud = await afterNextState(() => server.world.addChat(`${framework}: one more`));
    expect(loud.renders).toBeGreaterThan(loud.before);
    await converge();

    server.faults.blockTransports(true);
    await waitMode('DEGRADED');
    server.world.addChat(`${framework}: through polling`);
    await converge();
    expect(await text('source')).toBe('poll');

    server.faults.blockTransports(false);
    await waitMode('HEALTHY', 30000);
    expect(await storeMode()).toBe('HEALTHY'); // the page shows the store's own mode
    server.world.addChat(`${framework}: pushed again`);
    await converge();
    expect(await text('source')).toBe('push');
    expect(pageErrors).toEqual([]);
  });
});
