// `npm run model -- --runs=N [--seed=S]`: every model-based test in test/model (the store's,
// the client's, the client's transport model and the shared store's across tabs) for N
// generated runs each, from seed S
// (default: a fresh one, printed). A failure prints its seed and shrunk command list and the
// runs go on; the last line is always `model: R runs, F failures` (R = all models' runs).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const runs = Number(arg('runs') ?? 1000);
const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run model -- --runs=<positive int> [--seed=<int>]');
  process.exit(2);
}
console.log(`model: ${runs} runs per model from seed ${seed} (replay with --seed=${seed})`);
const dir = 'test-results/model';
/** The names the model tests report under (runModel's first argument). */
const MODELS = ['store', 'client', 'client-transport', 'tabs'];
rmSync(dir, { recursive: true, force: true });
const env = {
  ...process.env,
  MODEL_RUNS: String(runs),
  MODEL_SEED: String(seed),
  MODEL_REPORT_DIR: dir,
};
spawnSync('npx', ['vitest', 'run', '--project', 'model'], { stdio: 'inherit', env });
let total = 0;
let failures = 0;
// Each model writes a report under its name (run-model.ts); a missing one failed to run.
for (const name of MODELS) {
  const file = `${dir}/${name}.json`;
  if (!existsSync(file)) {
    console.log(`${name} model: no report (it crashed or did not run)`);
    failures++;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  console.log(
    `${name} model: ${r.runs} runs, ${r.failures} failures${r.seeds.length ? ` (seeds ${r.seeds.join(', ')})` : ''}`,
  );
  total += r.runs;
  failures += r.failures;
}
console.log(`model: ${total} runs, ${failures} failures`);
process.exit(failures ? 1 : 0);
