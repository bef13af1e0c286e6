// Builds the ESM entries into another directory (`node bench/lib/build-esm.mjs .wip/a`; inside the repo, so node_modules resolves),
// so a bench can measure a work-in-progress tree without touching dist/:
// `SYNCWIRE_DIST=.wip/a node --expose-gc bench/ingest.mjs`.
import { rollup } from 'rollup';
import typescript from '@rollup/plugin-typescript';

const out = process.argv[2];
if (!out) throw new Error('usage: node bench/lib/build-esm.mjs OUTDIR');
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');
const bundle = await rollup({
  input: { index: 'src/index.ts', alpine: 'src/alpine.ts', 'agent-zero': 'src/agent-zero.ts' },
  external,
  plugins: [
    typescript({
      tsconfig: './tsconfig.json',
      include: ['src/**/*.ts'],
      filterRoot: '.',
      rootDir: 'src',
      noEmit: false,
      declaration: false,
      outDir: out,
    }),
  ],
});
await bundle.write({ dir: out, format: 'es', entryFileNames: '[name].js' });
await bundle.close();
console.log(`built ${out}/index.js`);
