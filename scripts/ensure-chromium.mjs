// Makes sure Debian's Chromium is installed for the real-browser tests and the
// warm-start benchmark. Playwright's own browser download cannot work here, so
// the system package is used (CI runs as root on a fresh machine).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(
      `${CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  console.log('installing Debian chromium (one time)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
  if (!run(['update']) || !run(['install', '-y', '--no-install-recommends', 'chromium'])) {
    throw new Error('apt-get could not install chromium');
  }
  if (!existsSync(CHROMIUM)) throw new Error(`chromium installed but ${CHROMIUM} is missing`);
  return CHROMIUM;
}

/** Launch flags proven on this machine kind: no sandbox as root, no background networking on a closed network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(ensureChromium());
}
