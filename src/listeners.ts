/** @internal Calls every listener with `arg`; one that throws must not stop the others. */
export function fire<A>(set: Set<(a: A) => void>, arg: A, report: (e: unknown) => void): void {
  // A copy: a listener may add or remove listeners while we iterate.
  for (const fn of [...set]) {
    try {
      fn(arg);
    } catch (e) {
      report(e);
    }
  }
}

/** @internal `listen(set)(fn)` adds `fn` to `set` and returns its remover. */
export const listen =
  <F>(set: Set<F>) =>
  (fn: F): (() => void) => {
    set.add(fn);
    return () => void set.delete(fn);
  };

const INTERNAL = Symbol('syncwire internal listener');

/**
 * @internal Marks a listener as syncwire's own (a store on its client's onError): it does not
 * count as somebody listening, so errors nobody else hears are still printed.
 */
export const markInternal = <F extends object>(fn: F): F => Object.assign(fn, { [INTERNAL]: true });

/** @internal True for a listener marked by {@link markInternal}. */
export const isInternal = (fn: object): boolean => INTERNAL in fn;
