// Runs one model for MODEL_RUNS generated runs (default: the model's own count, 1000 unless
// it names one) from MODEL_SEED (default: a fixed seed, so `npm test` replays the same runs
// everywhere; `npm run model` passes a fresh one). A failure does not end the count: it is reported (seed, shrunk command list, what
// broke) and the runs go on from the next seed, so a long run counts every failure it
// meets. With MODEL_REPORT_DIR set, `<dir>/<name>.json` gets { runs, failures, seeds }.
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The seed `npm test` uses unless MODEL_SEED says otherwise. */
export const DEFAULT_SEED = 20261205;

export async function runModel(
  name: string,
  property: fc.IAsyncProperty<[unknown, unknown]>,
  defaultRuns = 1000,
): Promise<void> {
  const runs = Number(process.env.MODEL_RUNS ?? defaultRuns);
  let seed = process.env.MODEL_SEED === undefined ? DEFAULT_SEED : Number(process.env.MODEL_SEED);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed))
    throw new Error('MODEL_RUNS must be a positive integer and MODEL_SEED an integer');
  let done = 0;
  const failed: { seed: number; report: string }[] = [];
  while (done < runs) {
    const details = await fc.check(property, { numRuns: runs - done, seed });
    done += details.numRuns;
    if (!details.failed) break;
    const broke =
      details.errorInstance instanceof Error
        ? details.errorInstance.message
        : String(details.errorInstance);
    const report = `${fc.defaultReportMessage(details) ?? ''}\nWhat broke: ${broke}`;
    failed.push({ seed, report });
    console.error(
      `[model ${name}] failure ${failed.length}, seed ${seed} (replay: MODEL_SEED=${seed} MODEL_RUNS=${details.numRuns}):\n${report}`,
    );
    seed = (seed + 0x9e3779b9) | 0; // the next runs start from another seed
  }
  const dir = process.env.MODEL_REPORT_DIR;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `${name}.json`),
      JSON.stringify({ runs: done, failures: failed.length, seeds: failed.map((f) => f.seed) }),
    );
  }
  if (failed.length)
    throw new Error(
      `${name} model: ${failed.length} of ${done} runs failed; first seed ${failed[0]?.seed}\n${failed[0]?.report}`,
    );
}
