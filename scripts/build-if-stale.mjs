// `npm run demo` builds first only when the build is out of date: a full rollup run
// takes most of the demo's start-up time, and most starts follow no change to the library.
// Out of date = a file the demo loads from dist/ is missing, or a source of the build
// (src/, rollup.config.mjs, package.json, tsconfig.json) is newer than the oldest of them.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/**
 * Whether to build, from modification times alone (pure, so it is tested without a build).
 * @param {number[]} sources mtimes (ms) of every source of the build
 * @param {(number | null)[]} outputs mtimes (ms) of every output needed, null for a missing one
 * @returns {{ build: boolean, reason: string }}
 */
export function buildDecision(sources, outputs) {
  const missing = outputs.filter((t) => t === null).length;
  if (outputs.length === 0 || missing)
    return { build: true, reason: `${missing || 'all'} of dist/ missing` };
  const newestSource = Math.max(...sources);
  // Rollup empties dist/ and rewrites every file, so the oldest output is when the build started.
  const oldestOutput = Math.min(.../** @type {number[]} */ (outputs));
  if (newestSource > oldestOutput)
    return { build: true, reason: 'sources changed since the build' };
  return { build: false, reason: 'dist/ is up to date' };
}

/** @param {string} dir @returns {string[]} every file under dir */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const mtime = (/** @type {string} */ file) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
};

/** The dist/ files the demo pages load (the import map and the script tags name them). */
export function demoOutputs() {
  const pages = join(root, 'demo/public');
  const names = new Set();
  for (const page of readdirSync(pages).filter((f) => f.endsWith('.html')))
    for (const m of readFileSync(join(pages, page), 'utf8').matchAll(/\/dist\/([\w.-]+\.js)/g))
      names.add(m[1]);
  return [...names].map((name) => join(root, 'dist', name));
}

function main() {
  const sources = [
    ...filesUnder(join(root, 'src')),
    ...['rollup.config.mjs', 'package.json', 'tsconfig.json'].map((f) => join(root, f)),
  ].map((f) => mtime(f) ?? 0);
  const { build, reason } = buildDecision(sources, demoOutputs().map(mtime));
  console.log(`demo: ${build ? 'building' : 'no build'} (${reason})`);
  if (!build) return;
  const r = spawnSync('npx', ['rollup', '-c', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
