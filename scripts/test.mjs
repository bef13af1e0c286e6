// The one test command (`npm test`): lint, type-check, build, then every vitest
// suite. It always ends by printing `N passed, N failed`; a lint, type or build
// failure counts as one failed check so it can never hide behind a green count.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const run = (cmd, args) =>
  spawnSync(cmd, args, { stdio: 'inherit', env: process.env }).status === 0;
// Everything prettier keeps formatted (`npm run format` writes, `npm test` checks).
const FORMATTED = ['src', 'test', 'demo', 'bench', 'scripts', 'chaos', '*.mjs', '.size-limit.json'];
const steps = [
  ['lint', 'npx', ['eslint', '.']],
  ['format', 'npx', ['prettier', '--check', ...FORMATTED]],
  ['typecheck', 'npx', ['tsc', '--noEmit', '-p', '.']],
  ['build', 'npx', ['rollup', '-c', '--silent']],
  // The packed package as a consumer gets it: package.json fields and files (publint), and
  // every entry's types under ESM resolution (attw, offline: it packs with `npm pack`).
  // `./iife` is a classic script defining a global, imported for its URL only: no types to find.
  ['publint', 'npx', ['publint', '--strict']],
  [
    'attw',
    'npx',
    ['attw', '--pack', '.', '--profile', 'esm-only', '--exclude-entrypoints', './iife'],
  ],
  // The real-browser suite needs Debian's Chromium; installed on first run (CI is root on a fresh machine).
  ['chromium', 'node', ['scripts/ensure-chromium.mjs']],
];
let failedSteps = 0;
for (const [name, cmd, args] of steps) {
  console.log(`\n== ${name}`);
  if (!run(cmd, args)) {
    console.log(`== ${name} FAILED`);
    failedSteps++;
  }
}

mkdirSync('test-results', { recursive: true });
const out = 'test-results/vitest.json';
rmSync(out, { force: true });
console.log('\n== vitest');
run('npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
  ...process.argv.slice(2),
]);
let passed = 0;
let failed = failedSteps;
let skipped = 0;
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed = r.numPassedTests;
  failed += r.numFailedTests + (r.success || r.numFailedTests ? 0 : 1); // a crashed run without failures still fails
  skipped = r.numPendingTests + r.numTodoTests;
} else {
  failed++;
}
const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
writeFileSync('test-results/summary.txt', line + '\n');
console.log(line);
process.exit(failed ? 1 : 0);
