import resolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Each build starts from an empty dist/, so no file of an older build (a renamed entry, an old
// declaration) is ever shipped or measured.
rmSync(fileURLToPath(new URL('dist', import.meta.url)), { recursive: true, force: true });

// Every bare import stays external in the ESM build: the page's bundler dedupes them.
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');
// Only src/ goes through the TS plugin; tsconfig.json also covers tests and tools.
const ts = (extra) =>
  typescript({
    tsconfig: './tsconfig.json',
    include: ['src/**/*.ts'],
    filterRoot: '.',
    rootDir: 'src',
    noEmit: false,
    allowJs: false,
    ...extra,
  });
const entries = [
  'index',
  'alpine',
  'agent-zero',
  'stream',
  'persist',
  'machine',
  'react',
  'vue',
  'svelte',
  'tabs',
];
// Entries that share nothing at run time with the core (alpine, agent-zero and the React and
// Svelte adapters import its types only).
const standalone = ['index', 'alpine', 'agent-zero', 'react', 'svelte'];

// The add-on script-tag builds use the core through `window.Syncwire`, so every page has one
// copy of it (one SyncwireError class, one registry of shared clients).
const core = fileURLToPath(new URL('src/index.ts', import.meta.url));
const coreTypes = fileURLToPath(new URL('dist/types/index.d.ts', import.meta.url));
// The error class too (the core entry exports it): an add-on that bundles internal helpers
// (syncwire/tabs) throws the core's SyncwireError, never a copy `instanceof` would not know.
const errorClass = fileURLToPath(new URL('src/error-class.ts', import.meta.url));
const fromCore = (id) => id === core || id === errorClass;
const onCore = {
  external: fromCore,
  globals: { [core]: 'Syncwire', [errorClass]: 'Syncwire' },
};
const addOn = (input, file, name, plugins = []) => ({
  input,
  external: onCore.external,
  output: [
    { file, format: 'iife', name, sourcemap: true, globals: onCore.globals, plugins: [terser()] },
  ],
  plugins: [...plugins, ts({ declaration: false })],
});

export default [
  {
    input: Object.fromEntries(standalone.map((e) => [e, `src/${e}.ts`])),
    external,
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', sourcemap: true },
    plugins: [ts({ declaration: true, declarationDir: 'dist/types' })],
  },
  {
    // Add-on entries import the core entry itself (`./index.js`), never a copy or a shared chunk.
    // The Vue adapter is one: it throws the core's SyncwireError.
    input: {
      stream: 'src/stream.ts',
      persist: 'src/persist.ts',
      vue: 'src/vue.ts',
      tabs: 'src/tabs.ts',
    },
    external: (id) => fromCore(id) || external(id),
    // Internal helpers an add-on copies may sit next to imports it does not use
    // (socket.io-client): nothing an add-on needs runs on import.
    treeshake: { moduleSideEffects: false },
    output: {
      dir: 'dist',
      format: 'es',
      entryFileNames: '[name].js',
      sourcemap: true,
      paths: { [core]: './index.js', [errorClass]: './index.js' },
    },
    plugins: [ts({ declaration: true, declarationDir: 'dist/types' })],
  },
  {
    // syncwire/machine: the store's pure state machine on its own (a copy of the machine, not a
    // chunk shared with the core, so the core entry stays one self-contained file).
    input: { machine: 'src/machine.ts' },
    external,
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', sourcemap: true },
    plugins: [ts({ declaration: true, declarationDir: 'dist/types' })],
  },
  {
    // For <script> tags: socket.io-client bundled in, global `Syncwire`.
    input: 'src/index.ts',
    output: [
      {
        file: 'dist/syncwire.iife.min.js',
        format: 'iife',
        name: 'Syncwire',
        sourcemap: true,
        plugins: [terser()],
      },
    ],
    plugins: [resolve({ browser: true }), ts({ declaration: false })],
  },
  // Add-ons for <script> tags, loaded after syncwire.iife.min.js.
  {
    // Standalone (idb-keyval and SyncwireError bundled in), so a page can load it first and
    // create its persistence before the core arrives: the cache read then overlaps the rest.
    input: 'src/persist.ts',
    treeshake: { moduleSideEffects: false },
    output: [
      {
        file: 'dist/syncwire-persist.iife.min.js',
        format: 'iife',
        name: 'SyncwirePersist',
        sourcemap: true,
        plugins: [terser()],
      },
    ],
    plugins: [resolve({ browser: true }), ts({ declaration: false })],
  },
  addOn('src/stream.ts', 'dist/syncwire-stream.iife.min.js', 'SyncwireStream'),
  addOn('src/tabs.ts', 'dist/syncwire-tabs.iife.min.js', 'SyncwireTabs'),
  // The Alpine plugin: registers itself on alpine:init (see src/alpine-cdn.ts).
  addOn('src/alpine-cdn.ts', 'dist/syncwire-alpine.iife.min.js', 'SyncwireAlpine'),
  // One declaration file per entry, named for it (`dist/stream.d.ts`, never a hashed shared
  // chunk), so an editor's go-to-definition lands on a readable file with the TSDoc. An entry
  // that imports the core entry refers to `./index.js` for its types too.
  ...entries.map((entry) => ({
    input: `dist/types/${entry}.d.ts`,
    external: (id) => external(id) || (entry !== 'index' && id === coreTypes),
    output: { file: `dist/${entry}.d.ts`, format: 'es', paths: { [coreTypes]: './index.js' } },
    plugins: [dts()],
  })),
];
