/**
 * Waits until `predicate` holds, checking on every macrotask turn. For
 * integration tests against a real server, where there is no fake clock to
 * advance; it never sleeps a fixed time, and fails loudly at `timeoutMs`.
 */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${predicate.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
