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
      'syncwire-tabs.iife.min.js',
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

describe('framework adapters', () => {
  // Each adapter: its entry, the framework it is written for, and what it exports.
  const adapters = [
    ['./react', 'react', ['useSyncHealth', 'useSyncState']],
    ['./vue', 'vue', ['useSyncHealth', 'useSyncState']],
    ['./svelte', 'svelte', ['syncHealth', 'syncState']],
  ] as const;
  const importsOf = (file: string) =>
    [...readFileSync(new URL(file, root), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map(
      (match) => match[1],
    );

  it.each(adapters)('%s has %s as an optional peer dependency', (_entry, framework) => {
    expect(pkg.peerDependencies[framework]).toEqual(expect.any(String));
    expect(pkg.peerDependenciesMeta[framework]).toEqual({ optional: true });
    expect(pkg.dependencies[framework]).toBeUndefined();
  });

  it.each(adapters)(
    '%s imports at most its framework and the core entry, and exports its API only',
    async (entry, framework, names) => {
      const target = (pkg.exports as Record<string, { default: string }>)[entry]!.default;
      const imports = importsOf(target);
      for (const from of imports) expect([framework, './index.js'], target).toContain(from);
      // The React and Vue adapters call their framework; the Svelte one needs only its contract.
      if (framework !== 'svelte') expect(imports).toContain(framework);
      // The framework stays external: no copy of it in the adapter.
      expect(readFileSync(new URL(target, root), 'utf8').length).toBeLessThan(4000);
      const mod = await import(new URL(target, root).href);
      expect(Object.keys(mod).sort()).toEqual([...names].sort());
    },
  );

  it('the Svelte adapter needs no Svelte at run time (the store contract is plain objects)', () => {
    expect(importsOf('./dist/svelte.js')).toEqual([]);
  });
});

describe('syncwire/tabs', () => {
  it('imports the core entry only, and exports createSharedSyncStore', async () => {
    const code = readFileSync(new URL('dist/tabs.js', root), 'utf8');
    const imports = [...code.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(['./index.js']));
    expect(code).not.toMatch(/^import '/m); // no import for its side effects (socket.io-client)
    const mod = await import(new URL('dist/tabs.js', root).href);
    expect(Object.keys(mod)).toEqual(['createSharedSyncStore']);
  });

  it("throws the core's SyncwireError, not a copy of the class", async () => {
    const core = await import(new URL('dist/index.js', root).href);
    const tabs = await import(new URL('dist/tabs.js', root).href);
    let thrown: unknown;
    try {
      tabs.createSharedSyncStore({ channel: '' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(core.SyncwireError);
    expect(core.isSyncwireError(thrown, 'VALIDATION_ERROR')).toBe(true);
  });
});
