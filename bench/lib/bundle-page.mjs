// Bundles one ESM page (e.g. test/e2e/pages/tabs.js) with vite's build API into a folder the
// reference server serves as `<name>.html` + `<name>.js`: `syncwire` and its subpaths resolve
// through package.json `exports` to dist/ (built beforehand), as an application's bundler
// resolves the published package. The same as test/helpers/bundle-pages.ts, for plain Node.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** `syncwire`, `syncwire/tabs`, ... → the file package.json `exports` names in dist/. */
const syncwire = {
  name: 'syncwire-from-exports',
  resolveId(id) {
    if (id !== 'syncwire' && !id.startsWith('syncwire/')) return null;
    const target = pkg.exports[id === 'syncwire' ? '.' : `.${id.slice('syncwire'.length)}`];
    if (typeof target !== 'object') throw new Error(`${id} is not an entry of package.json`);
    return join(ROOT, target.default);
  },
};

/** Builds `entry` (a path from the repository root) into `outDir`; returns the page's path. */
export async function bundlePage(entry, outDir) {
  const name = basename(entry, '.js');
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    plugins: [syncwire],
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'es2022',
      rollupOptions: {
        input: { [name]: join(ROOT, entry) },
        output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  });
  writeFileSync(
    join(outDir, `${name}.html`),
    `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>${name}</title></head>
  <body><script type="module" src="/${name}.js"></script></body>
</html>
`,
  );
  return `/${name}.html`;
}
