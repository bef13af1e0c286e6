// What the package ships: each entry in package.json `exports` has its module and its own
// declaration file, named for it; the core entry exports the documented surface only.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const entries = Object.entries(pkg.exports as Record<string, string | Record<string, string>>)
  .filter(([, target]) => typeof target === 'object')
  .map(([name, target]) => [name, target as { types: string; default: string }] as const);

describe('package entries', () => {
  it.each(entries)('%s has its module and its declaration file in dist/', (_name, target) => {
    expect(existsSync(new URL(target.default, root)), target.default).toBe(true);
    expect(existsSync(new URL(target.types, root)), target.types).toBe(true);
  });

  it('ships one declaration file per entry, each named for it (no hashed shared chunks)', () => {
    const declared = readdirSync(new URL('dist/', root)).filter((f) => f.endsWith('.d.ts'));
    const expected = entries.map(([, target]) => target.types.replace('./dist/', ''));
    expect(declared.sort()).toEqual(expected.sort());
  });

  it('add-on declarations refer to the core entry for shared types, never to another file', () => {
    for (const [name, target] of entries) {
      if (name === '.') continue;
      const text = readFileSync(new URL(target.types, root), 'utf8');
      const relative = [...text.matchAll(/from '(\.[^']*)'/g)].map((match) => match[1]);
      expect(new Set(relative), name).toEqual(new Set(relative.length ? ['./index.js'] : []));
    }
  });

  it('the core entry leaves the state machine to syncwire/machine', async () => {
    const core = await import(new URL('dist/index.js', root).href);
    const machine = await import(new URL('dist/machine.js', root).href);
    expect(core.createSyncStore).toBeTypeOf('function');
    expect(core.transition).toBeUndefined();
    expect(core.initialMachineState).toBeUndefined();
    expect(core.backoffDelay).toBeUndefined();
    expect(Object.keys(machine).sort()).toEqual(
      ['TIMER_NAMES', 'backoffDelay', 'initialMachineState', 'transition'].sort(),
    );
    const state = machine.initialMachineState();
    expect(state.mode).toBe('DISCONNECTED');
    expect(state.running).toBe(false);
  });
});

// Script-tag builds are files, not modules with bindings, but bundlers still reach them through
// `exports` (`import url from 'syncwire/dist/syncwire.iife.min.js?url'`): Node's own resolver,
// run from inside the package (a self-reference), must find every IIFE file rollup writes.
describe('IIFE builds reachable through exports', () => {
  const iife = readdirSync(new URL('dist/', root)).filter((f) => f.endsWith('.iife.min.js'));
  const resolveAll = (specifiers: string[]): string[] =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `console.log(JSON.stringify(${JSON.stringify(specifiers)}.map((s) => import.meta.resolve(s))))`,
        ],
        { cwd: fileURLToPath(root), encoding: 'utf8', stdio: 'pipe' },
      ),
    );

  it('rollup builds the four script-tag files', () => {
    expect(iife.sort()).toEqual([
      'syncwire-alpine.iife.min.js',
      'syncwire-persist.iife.min.js',
      'syncwire-stream.iife.min.js',
      'syncwire.iife.min.js',
    ]);
  });

  it('each resolves by its dist/ path, and syncwire/iife is the core build', () => {
    const specifiers = [...iife.map((f) => `syncwire/dist/${f}`), 'syncwire/iife'];
    const expected = [...iife, 'syncwire.iife.min.js'].map((f) => new URL(`dist/${f}`, root).href);
    expect(resolveAll(specifiers)).toEqual(expected);
    for (const f of iife) expect(existsSync(new URL(`dist/${f}`, root)), f).toBe(true);
  });

  it('the ES modules stay reachable only through their named entries', () => {
    expect(() => resolveAll(['syncwire/dist/index.js'])).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('package.json `unpkg` and `jsdelivr` point at the core IIFE build', () => {
    expect(pkg.unpkg).toBe(pkg.exports['./iife']);
    expect(pkg.jsdelivr).toBe(pkg.exports['./iife']);
  });
});
