// Bundles the adapter pages of test/e2e/pages/ with vite's build API into a folder the
// reference server serves: one `<framework>.html` and `<framework>.js` each. `syncwire` and
// its subpaths resolve through package.json `exports` to dist/, as an application's bundler
// resolves the published package; `.svelte` files are compiled by svelte/compiler.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'svelte/compiler';
import { build, type Plugin } from 'vite';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGES = join(ROOT, 'test/e2e/pages');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { default: string }>;
};

/** `syncwire`, `syncwire/react`, ... → the file package.json `exports` names in dist/. */
const syncwire: Plugin = {
  name: 'syncwire-from-exports',
  resolveId(id) {
    if (id !== 'syncwire' && !id.startsWith('syncwire/')) return null;
    const target = pkg.exports[id === 'syncwire' ? '.' : `.${id.slice('syncwire'.length)}`];
    if (typeof target !== 'object') throw new Error(`${id} is not an entry of package.json`);
    return join(ROOT, target.default);
  },
};

/** Svelte components, compiled for the browser. */
const svelte: Plugin = {
  name: 'svelte-compile',
  transform(code, id) {
    if (!id.endsWith('.svelte')) return null;
    return compile(code, { filename: id, generate: 'client' }).js;
  },
};

/** Builds the pages of `frameworks` into `outDir` (dist/ must be built). */
export async function bundlePages(frameworks: readonly string[], outDir: string) {
  await build({
    configFile: false,
    root: PAGES,
    logLevel: 'warn',
    plugins: [syncwire, svelte],
    define: {
      // Production builds of the frameworks, as a deployed page has them.
      'process.env.NODE_ENV': '"production"',
      __VUE_OPTIONS_API__: 'false',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'es2022',
      rollupOptions: {
        input: Object.fromEntries(frameworks.map((f) => [f, join(PAGES, `${f}.js`)])),
        output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  });
  for (const framework of frameworks) {
    writeFileSync(
      join(outDir, `${framework}.html`),
      `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>syncwire/${framework}</title></head>
  <body><div id="app"></div><script type="module" src="/${framework}.js"></script></body>
</html>
`,
    );
  }
}
