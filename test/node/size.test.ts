import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSizeLimit } from '../../scripts/size.mjs';

// Sizes are part of the product: `npm test` builds dist/ first, then size-limit measures each
// entry against its budget in .size-limit.json.
const budgets: { name: string; limit: string; path: string }[] = JSON.parse(
  readFileSync(new URL('../../.size-limit.json', import.meta.url), 'utf8'),
);
const measured = runSizeLimit();

describe('bundle size budgets (min+gzip, size-limit)', () => {
  it.each(budgets.map((budget) => [budget.name, budget.limit]))('%s stays within %s', (name) => {
    const check = measured.checks.find((c: { name: string }) => c.name === name);
    expect(check, `${name} was not measured: is dist/ built?`).toBeDefined();
    expect(check.size).toBeLessThanOrEqual(check.sizeLimit);
    expect(check.passed).toBe(true);
  });

  const dir = mkdtempSync(join(tmpdir(), 'syncwire-size-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails (exit code and `passed: false`) when an entry outgrows its budget', () => {
    // Paths in a config are relative to its own folder, so the copy names dist/ absolutely.
    const dist = new URL('../../', import.meta.url).pathname;
    const tight = budgets.map((budget) => ({
      ...budget,
      path: join(dist, budget.path),
      limit: '100 B',
    }));
    const config = join(dir, 'tight.json');
    writeFileSync(config, JSON.stringify(tight.slice(0, 2)));
    const { checks, exitCode } = runSizeLimit({ config });
    expect(exitCode).not.toBe(0);
    expect(checks.map((c: { passed: boolean }) => c.passed)).toEqual([false, false]);
    expect(checks[0].size).toBeGreaterThan(100);
  });
});

describe("README's size table", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  // The row of each budget: the core and the IIFE by name, every other entry by its import path.
  const rowName = (name: string) =>
    name === 'core' ? '`syncwire` (core)' : name === 'iife' ? 'IIFE build' : `\`syncwire/${name}\``;

  it.each(budgets.map((budget) => [budget.name, budget.limit]))(
    'has a row for %s with its budget (%s)',
    (name, limit) => {
      const row = readme.split('\n').find((line) => line.startsWith(`| ${rowName(name)} `));
      expect(row, `no row for ${name}`).toBeDefined();
      expect(row!.split('|').map((cell) => cell.trim())[3]).toBe(limit);
    },
  );
});
