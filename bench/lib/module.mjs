// Lets every bench module run alone (`node --expose-gc bench/ingest.mjs --quick`)
// or under bench/run.mjs, which forks it and receives its entries over IPC.
import { fileURLToPath } from 'node:url';

/**
 * @param {string} moduleUrl import.meta.url of the bench module
 * @param {(ctx: { quick: boolean, log: (...a: unknown[]) => void }) => Promise<object[]>} run
 */
export function benchMain(moduleUrl, run) {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const quick = process.argv.includes('--quick');
  const log = (...args) => console.log('   ', ...args);
  // Under the runner: if it goes away, so do we (a server process watches for the
  // same thing, and a browser closes with its pipe). The listener holds the IPC
  // channel open, so it is removed once the results are sent.
  const gone = () => process.exit(1);
  if (process.send) process.on('disconnect', gone);
  const report = (msg) => {
    process.off('disconnect', gone);
    if (process.send) process.send(msg);
  };
  run({ quick, log }).then(
    (entries) => {
      if (process.send) report({ entries });
      else console.log(JSON.stringify(entries, null, 2));
    },
    (err) => {
      console.error(err?.stack ?? err);
      report({ error: String(err?.message ?? err) });
      process.exitCode = 1;
    },
  );
}
