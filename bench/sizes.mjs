// size_core_gz, size_alpine_gz, size_iife_gz, size_tabs_gz (goals), size_persist_gz and
// size_stream_gz (the add-on entries, reported), size_react_gz, size_vue_gz and size_svelte_gz
// (what each framework adapter costs, reported): min+gzip bytes measured by size-limit
// (scripts/size.mjs measure()), the same run `npm run size` and the budget test make.
import { GOALS, measure } from '../scripts/size.mjs';
import { benchMain } from './lib/module.mjs';
import { entry } from './lib/util.mjs';

export async function run({ log }) {
  const sizes = measure();
  log(
    Object.entries(sizes)
      .map(([k, v]) => `${k} ${v} B`)
      .join(', '),
  );
  return Object.entries(sizes).map(([name, bytes]) =>
    entry(name, bytes, 'B', GOALS[name] === undefined ? null : ['<=', GOALS[name]]),
  );
}

benchMain(import.meta.url, run);
