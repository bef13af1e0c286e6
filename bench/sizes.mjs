// size_core_gz, size_alpine_gz, size_iife_gz: min+gzip bytes from scripts/size.mjs measure().
import { fileURLToPath } from 'node:url';
import { GOALS, measure } from '../scripts/size.mjs';
import { benchMain } from './lib/module.mjs';
import { entry } from './lib/util.mjs';

const DIST = fileURLToPath(new URL('../dist', import.meta.url));

export async function run({ log }) {
  const sizes = await measure(DIST);
  log(Object.entries(sizes).map(([k, v]) => `${k} ${v} B`).join(', '));
  return Object.entries(GOALS).map(([name, goal]) => entry(name, sizes[name] ?? NaN, 'B', ['<=', goal]));
}

benchMain(import.meta.url, run);
