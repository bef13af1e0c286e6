/**
 * Counts unhandled rejections and uncaught exceptions while a model runs: each one is a
 * failure of the run in which it happened (Node reports them before the next macrotask,
 * so a settle is enough for them to show up).
 */
export function watchUnhandled() {
  const seen: string[] = [];
  const onRejection = (reason: unknown) =>
    void seen.push(
      `unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}`,
    );
  const onException = (err: unknown) =>
    void seen.push(`uncaught exception: ${err instanceof Error ? err.message : String(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    /** Throws if anything went unhandled since the last call. */
    check() {
      if (seen.length) throw new Error(seen.splice(0).join('\n'));
    },
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
