// Min+gzip sizes of the shipped entries, against the size goals and the limits
// `npm test` enforces. Used by `npm run size`, the bench (bench/sizes.mjs) and
// the budget test (test/node/size.test.ts).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';

/** The size goals (bytes, min+gzip level 9) of issue 5; the bench reports each as met or missed. */
export const GOALS = { size_core_gz: 6144, size_alpine_gz: 1024, size_iife_gz: 19456 };

/**
 * What `npm test` enforces: round budgets with headroom (the size decision of the issue
 * "A core a newcomer reads in an evening": bytes are paid for with features, never with
 * readability; the 6 KB core goal was set before the feature set was measured). The core's
 * 12.5 kB there predates the errors that say what is wrong and the checked options of
 * "Works against Agent Zero as it ships" (about 1.3 kB, most of it message text). An
 * entry past its budget fails the test.
 */
export const LIMITS = {
  size_core_gz: 14500,
  size_alpine_gz: 1000,
  size_iife_gz: 27500,
  size_persist_gz: 1500,
  size_stream_gz: 1500,
};

const gz = (code) => gzipSync(Buffer.from(code), { level: 9 }).length;

/**
 * Measures dist/: the ESM entries are minified here (dependencies stay external). An entry
 * that imports a relative module other than the core entry (a shared chunk) would hide
 * bytes from its figure, so that is an error; the add-ons import `./index.js`, the core,
 * as a dependency.
 */
export async function measure(dir = 'dist') {
  const min = async (file) => {
    const code = readFileSync(`${dir}/${file}`, 'utf8');
    for (const [, spec] of code.matchAll(/\b(?:from|import)\s*['"](\.[^'"]*)['"]/g)) {
      if (file === 'index.js' || spec !== './index.js') throw new Error(`${dir}/${file} imports ${spec}: its size would leave that out`);
    }
    return (await minify(code, { module: true, compress: { passes: 2 }, mangle: true })).code;
  };
  return {
    size_core_gz: gz(await min('index.js')),
    size_alpine_gz: gz(await min('alpine.js')),
    size_iife_gz: gz(readFileSync(`${dir}/syncwire.iife.min.js`, 'utf8')),
    size_persist_gz: gz(await min('persist.js')),
    size_stream_gz: gz(await min('stream.js')),
  };
}

/**
 * The entries over their limit: `[name, bytes, limit]` each (none: within budget).
 * @param {Record<string, number | undefined>} sizes
 * @param {Record<string, number>} [limits]
 */
export function overLimit(sizes, limits = LIMITS) {
  return Object.entries(limits).flatMap(([name, limit]) => {
    const bytes = sizes[name];
    return typeof bytes === 'number' && bytes <= limit ? [] : [[name, bytes, limit]];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await measure();
  for (const [name, bytes] of Object.entries(sizes)) {
    const goal = GOALS[name];
    const state = bytes > LIMITS[name] ? 'OVER LIMIT' : goal !== undefined && bytes > goal ? 'over goal' : 'ok';
    console.log(`${name.padEnd(16)} ${String(bytes).padStart(6)} B  goal ${goal ?? '-'} B  limit ${LIMITS[name]} B  ${state}`);
  }
  process.exit(overLimit(sizes).length ? 1 : 0);
}
