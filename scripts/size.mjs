// Min+gzip sizes of the shipped entries, checked against budgets.
// Used by `npm run size` and by the budget test (test/size.test.ts).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';

/** Budgets in bytes (min+gzip level 9). */
export const BUDGETS = { size_core_gz: 6144, size_alpine_gz: 1024, size_iife_gz: 19456 };

const gz = (code) => gzipSync(Buffer.from(code), { level: 9 }).length;

/** Measures dist/: the ESM entries are minified here (dependencies stay external). */
export async function measure(dir = 'dist') {
  const min = async (file) => (await minify(readFileSync(`${dir}/${file}`, 'utf8'), { module: true, compress: { passes: 2 }, mangle: true })).code;
  const out = { size_core_gz: gz(await min('index.js')) };
  try {
    out.size_alpine_gz = gz(await min('alpine.js'));
  } catch {
    // no Alpine entry yet
  }
  out.size_iife_gz = gz(readFileSync(`${dir}/syncwire.iife.min.js`, 'utf8'));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await measure();
  let over = 0;
  for (const [name, bytes] of Object.entries(sizes)) {
    const budget = BUDGETS[name];
    const ok = bytes <= budget;
    if (!ok) over++;
    console.log(`${name.padEnd(16)} ${String(bytes).padStart(6)} B  budget ${budget} B  ${ok ? 'ok' : 'OVER'}`);
  }
  process.exit(over ? 1 : 0);
}
