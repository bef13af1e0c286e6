// Back to WebSocket and the transport memo in real Chromium: the IIFE build with default
// options on bench/pages/transport.html, served by the reference server through the fault
// proxy (chaos/fault-proxy.mjs), whose blockWebSockets() refuses WebSocket upgrades with 403.
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFaultProxy, type FaultProxy } from '../../chaos/fault-proxy.mjs';
import {
  createReferenceServer,
  type ReferenceServer,
} from '../../demo/server/reference-server.mjs';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/ensure-chromium.mjs';

const PAGES = fileURLToPath(new URL('../../bench/pages/', import.meta.url));

let browser: Browser;
let server: ReferenceServer;
let proxy: FaultProxy;
let page: Page;

interface PageView {
  transport: string | undefined;
  moves: number;
  mode: string;
  counters: { resyncs: number; handshakes: number };
  shown: number[];
  lines: string[];
  errors: string[];
  memo: string | null;
}
const view = () =>
  page.evaluate((): PageView => {
    const w = window as unknown as {
      __client: { transport: { name?: string; moves: number } };
      __store: { mode: string; health: { counters: PageView['counters'] } };
      __bench: { shown: number[]; lines: string[]; errors: string[] };
    };
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('syncwire:ws-blocked:'));
    return {
      transport: w.__client.transport.name,
      moves: w.__client.transport.moves,
      mode: w.__store.mode,
      counters: w.__store.health.counters,
      shown: w.__bench.shown,
      lines: w.__bench.lines,
      errors: w.__bench.errors,
      memo: key ? sessionStorage.getItem(key) : null,
    };
  });
const until = (what: (v: PageView) => boolean) =>
  expect.poll(async () => what(await view()), { timeout: 20000 }).toBe(true);

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  server = await createReferenceServer({ staticRoot: PAGES });
  server.world.addChat('transport e2e');
  proxy = await createFaultProxy({ target: server.url });
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});
afterEach(async () => {
  await page?.close();
  await proxy?.close();
  await server?.close();
});

describe('WebSocket blocked, then allowed, in real Chromium', () => {
  it('moves the page back to WebSocket once the proxy lets it through; the store resumes, never empty', async () => {
    proxy.blockWebSockets(true);
    await page.goto(`${proxy.url}/transport.html?probeMs=300`);
    await until((v) => v.mode === 'HEALTHY' && v.transport === 'polling');
    expect((await view()).memo).not.toBeNull();
    const before = await view();

    proxy.blockWebSockets(false);
    await until((v) => v.transport === 'websocket' && v.mode === 'HEALTHY');
    const after = await view();
    expect(after.moves).toBe(1);
    expect(after.lines).toContain('moving back to websocket');
    expect(after.counters.resyncs).toBe(before.counters.resyncs); // resumed, no full resync
    expect(after.counters.handshakes).toBe(before.counters.handshakes + 1);
    expect(after.shown.every((n) => n > 0)).toBe(true); // never an empty state
    expect(after.memo).toBeNull();
    expect(after.errors).toEqual([]);

    server.world.addChat('after the move');
    await until((v) => v.shown.at(-1) === before.shown.at(-1)! + 1);
  });

  it('a reload on a network that blocks WebSocket starts on long-polling at once (the memo), and upgrades once allowed', async () => {
    proxy.blockWebSockets(true);
    await page.goto(`${proxy.url}/transport.html`);
    await until((v) => v.shown.length > 0 && v.transport === 'polling');
    expect((await view()).lines).not.toContain(
      'websocket blocked here lately: starting on long-polling',
    );

    await page.reload();
    await until((v) => v.shown.length > 0);
    const reloaded = await view();
    expect(reloaded.lines[0]).toBe('websocket blocked here lately: starting on long-polling');
    expect(reloaded.transport).toBe('polling');
    expect(reloaded.memo).not.toBeNull();

    // Without the memo (?memo=0) the same reload tries WebSocket first.
    await page.goto(`${proxy.url}/transport.html?memo=0`);
    await until((v) => v.shown.length > 0);
    expect((await view()).lines).not.toContain(
      'websocket blocked here lately: starting on long-polling',
    );

    await page.goto(`${proxy.url}/transport.html?probeMs=300`);
    await until((v) => v.transport === 'polling');
    proxy.blockWebSockets(false);
    await until((v) => v.transport === 'websocket' && v.memo === null);
  });
});
