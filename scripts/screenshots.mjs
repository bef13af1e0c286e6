// Refreshes README's screenshots of the demo page: `node scripts/screenshots.mjs` (after
// `npm run build`). Runs the reference server in-process with the demo's own settings,
// drives Debian's Chromium through playwright-core, and writes docs/demo.png (desktop) and
// docs/demo-narrow.png (a 360 px phone). Each shot shows a chat log past item 9, a fault
// with its explanation line, the mode legend and the event console.
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { CHROMIUM_ARGS, ensureChromium } from './ensure-chromium.mjs';

const root = new URL('../', import.meta.url);
const SHOTS = [
  { file: 'docs/demo.png', viewport: { width: 1280, height: 900 } },
  { file: 'docs/demo-narrow.png', viewport: { width: 360, height: 740 } },
];

const server = await createReferenceServer({
  staticRoot: fileURLToPath(new URL('demo/public/', root)),
  faultApi: true,
  allowMissingOrigin: false,
  requireCsrfCookie: true,
  cors: false,
  tickerMs: 1500, // as `npm run demo`: the world changes by itself, so pushes flow
});
const browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
try {
  // A chat with a dozen log items, so the shots show numbers past 9.
  const [chatId] = server.world.chats.keys();
  for (let i = 1; i <= 12; i++)
    server.world.appendLog(chatId, { heading: `Step ${i}`, content: 'tool output' });

  for (const { file, viewport } of SHOTS) {
    const page = await browser.newPage({ viewport });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(server.url + '/');
    await page.waitForFunction(() => document.getElementById('mode')?.textContent === 'HEALTHY');
    await page.click(`#chats li button >> text="${server.world.chat(chatId).name}"`);
    await page.waitForFunction(() => document.querySelectorAll('#log li').length > 10);
    // Stall handshakes while HEALTHY: nothing changes yet, and the line under the panel says why.
    await page.click('[data-fault="stallHandshakes"]');
    await page.waitForSelector('[data-fault-note="stallHandshakes"]');
    await page.click('#legend summary');
    await page.click('#console-toggle');
    await page.waitForSelector('#console tr');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > viewport.width) throw new Error(`${file}: page is ${width} px wide`);
    await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header where it belongs
    await page.screenshot({ path: fileURLToPath(new URL(file, root)), fullPage: true });
    console.log(`wrote ${file} (${viewport.width} px wide)`);
    server.faults.reset();
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
