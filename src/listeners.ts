/** @internal Calls every listener with `arg`; one that throws must not stop the others. */
export function fire<A>(set: Set<(a: A) => void>, arg: A, report: (e: unknown) => void): void {
  // A copy: a listener may add or remove listeners while we iterate.
  [...set].forEach((fn) => {
    try {
      fn(arg);
    } catch (e) {
      report(e);
    }
  });
}

/** @internal `listen(set)(fn)` adds `fn` to `set` and returns its remover. */
export const listen =
  <F>(set: Set<F>) =>
  (fn: F) => (set.add(fn), () => void set.delete(fn));

/**
 * @internal A set of callbacks on a hot path (every inbound event). `snapshot()` is the
 * array to iterate: copied once after each change rather than on every call. A callback
 * that subscribes or unsubscribes while the snapshot is iterated changes the set and
 * the next snapshot, never the iteration under way, exactly as a copy per call would.
 */
export class CallbackSet<F> {
  private readonly set = new Set<F>();
  private list: readonly F[] | undefined;

  get size(): number {
    return this.set.size;
  }

  add(fn: F): void {
    if (this.set.has(fn)) return;
    this.set.add(fn);
    this.list = undefined;
  }

  /** True if `fn` was there. */
  delete(fn: F): boolean {
    if (!this.set.delete(fn)) return false;
    this.list = undefined;
    return true;
  }

  snapshot(): readonly F[] {
    return (this.list ??= [...this.set]);
  }
}
