import resolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';

// Every bare import stays external in the ESM build: the page's bundler dedupes them.
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');
// Only src/ goes through the TS plugin; tsconfig.json also covers tests and tools.
const ts = (extra) =>
  typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts'], filterRoot: '.', rootDir: 'src', noEmit: false, allowJs: false, ...extra });

export default [
  {
    input: { index: 'src/index.ts', alpine: 'src/alpine.ts', 'agent-zero': 'src/agent-zero.ts' },
    external,
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', sourcemap: true },
    plugins: [ts({ declaration: true, declarationDir: 'dist/types' })],
  },
  {
    // For <script> tags: socket.io-client and idb-keyval bundled in, global `Syncwire`.
    input: 'src/index.ts',
    output: [{ file: 'dist/syncwire.iife.min.js', format: 'iife', name: 'Syncwire', sourcemap: true, plugins: [terser()] }],
    plugins: [resolve({ browser: true }), ts({ declaration: false })],
  },
  {
    // The Alpine plugin for <script> tags: uses the core through window.Syncwire.
    input: 'src/alpine-cdn.ts',
    output: [{ file: 'dist/syncwire-alpine.iife.min.js', format: 'iife', name: 'SyncwireAlpine', sourcemap: true, plugins: [terser()] }],
    plugins: [ts({ declaration: false })],
  },
  {
    input: { index: 'dist/types/index.d.ts', alpine: 'dist/types/alpine.d.ts', 'agent-zero': 'dist/types/agent-zero.d.ts' },
    external,
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts' },
    plugins: [dts()],
  },
];
