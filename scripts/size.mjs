// Min+gzip sizes of the shipped entries, measured by size-limit with the budgets in
// .size-limit.json (esbuild minifies each ESM entry with its dependencies left out; the
// IIFE is measured as shipped). Used by `npm run size`, the bench (bench/sizes.mjs) and
// the budget test (test/node/size.test.ts), so all three report the same figures.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../node_modules/size-limit/bin.js', import.meta.url));

/** The size goals (bytes, min+gzip) of issues 5 and 16; the bench reports each as met or missed. */
export const GOALS = {
  size_core_gz: 6144,
  size_alpine_gz: 1024,
  size_iife_gz: 19456,
  // Issue 16: syncwire/tabs, the add-on alone (the core entry it imports is not counted).
  size_tabs_gz: 2048,
};

/** The bench's figure name for a size-limit check name (`core` → `size_core_gz`). */
export const figureName = (checkName) => `size_${checkName}_gz`;

/**
 * Runs size-limit on dist/ (built beforehand) and returns its checks:
 * `{ name, size, sizeLimit, passed }` each, in the order of .size-limit.json.
 * @param {{ config?: string }} [options] another config file (the budget test uses one)
 */
export function runSizeLimit({ config } = {}) {
  const args = [BIN, '--json', ...(config ? ['--config', config] : [])];
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  let checks;
  try {
    checks = JSON.parse(run.stdout);
  } catch {
    throw new Error(`size-limit printed no JSON (exit ${run.status}): ${run.stdout}${run.stderr}`);
  }
  if (!Array.isArray(checks)) {
    throw new Error(`size-limit failed: ${checks.error ?? run.stdout}`);
  }
  return { checks, exitCode: run.status };
}

/** The sizes as bench figures: `{ size_core_gz: bytes, ... }`. */
export function measure() {
  const { checks } = runSizeLimit();
  return Object.fromEntries(checks.map((check) => [figureName(check.name), check.size]));
}
