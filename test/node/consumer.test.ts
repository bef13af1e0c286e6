// A consumer's project: test/fixtures/consumer, a page written against the package as users
// import it (`syncwire`, `syncwire/agent-zero`, `syncwire/alpine`, `syncwire/stream`), built
// with Vite and type-checked with `tsc --strict` (moduleResolution "bundler") against the
// built dist/ and its declarations, installed as node_modules/syncwire in a temporary dir.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'test/fixtures/consumer');
const require = createRequire(import.meta.url);

// The fixture's own sources (every module under src/, adapters included once added).
const sources = readdirSync(join(fixture, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((file) => /\.(ts|tsx|vue|svelte)$/.test(file))
  .map((file) => [file, readFileSync(join(fixture, 'src', file), 'utf8')] as const);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncwire-consumer-'));
  cpSync(fixture, dir, { recursive: true });
  // The package as npm would install it: its package.json (exports) and dist/. Its own
  // dependencies resolve from the repo, where dist/ really is.
  const pkg = join(dir, 'node_modules/syncwire');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(root, 'dist'), join(pkg, 'dist'), 'dir');
  // The page's other dependencies, from the repo's node_modules.
  for (const name of [
    'alpinejs',
    '@types/alpinejs',
    'react',
    'react-dom',
    '@types/react',
    '@types/react-dom',
    'vue',
    'svelte',
  ]) {
    const target = join(dir, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(dirname(require.resolve(`${name}/package.json`)), target, 'dir');
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a consumer project (Vite, tsc --strict)', () => {
  it('has source files, and none uses a type assertion, any or a @ts- directive', () => {
    expect(sources.map(([file]) => file)).toEqual(
      expect.arrayContaining([
        'main.ts',
        'events.ts',
        'stores.ts',
        'alpine.ts',
        'react.ts',
        'vue.ts',
        'svelte.ts',
        'tabs.ts',
      ]),
    );
    for (const [file, text] of sources) {
      // Comments may say anything; the code may not cast.
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/\bas\s+(?!const\b)[\w{[(<]/);
      expect(code, file).not.toMatch(/\bany\b/);
      expect(text, file).not.toMatch(/@ts-(ignore|expect-error|nocheck)/);
    }
  });

  it('type-checks with tsc --noEmit --strict against the shipped declarations', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const run = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '-p', dir], {
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 60000);

  it('builds with vite build, syncwire resolved as the package', async () => {
    const result = await build({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      build: { outDir: join(dir, 'out'), minify: false },
    });
    const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) =>
      'output' in r ? r.output : [],
    );
    const code = outputs.map((o) => (o.type === 'chunk' ? o.code : '')).join('\n');
    // The page's code, and the library's: the core, the Agent Zero model, the Alpine plugin
    // and the stream add-on all made it in.
    expect(code).toContain('/dev_websocket_test');
    expect(code).toContain('state_request');
    expect(code).toContain('notifications_guid');
    expect(code).toContain('register syncwirePlugin first');
    expect(code).toContain('requestStream options');
    // The adapters: React's and Vue's hooks and the Svelte contract.
    expect(code).toContain('useSyncExternalStore');
    expect(code).toContain('onScopeDispose');
    expect(outputs.some((o) => o.fileName === 'index.html')).toBe(true);
  }, 60000);
});
