/** Page signals the store reacts to. */
export interface EnvironmentState {
  hidden: boolean;
  online: boolean;
}

/**
 * A source of page signals, attached only while a store runs. Tests pass their
 * own; the default listens to `visibilitychange`, `online` and `offline`.
 */
export interface EnvironmentSource {
  read(): EnvironmentState;
  /** Calls `listener` on every change (and `pagehide`, with `leaving: true`); returns the remover. */
  subscribe(listener: (state: EnvironmentState & { leaving?: boolean }) => void): () => void;
}

// Read through globalThis: a host without a DOM has no `document` or `navigator` at all.
const host = globalThis as Partial<Window & typeof globalThis>;

/** @internal the browser's signals; in a non-browser host it reports "visible and online". */
export const browserEnvironment: EnvironmentSource = {
  read: () => ({
    hidden: host.document?.visibilityState === 'hidden',
    online: host.navigator?.onLine !== false,
  }),
  subscribe(listener) {
    // A worker or a test host may have a global addEventListener; Node has none.
    const win = (typeof host.addEventListener === 'function' ? host : undefined) as
      EventTarget | undefined;
    const changed = () => listener(browserEnvironment.read());
    const leaving = () => listener({ ...browserEnvironment.read(), leaving: true });
    const pairs: [EventTarget | undefined, string, () => void][] = [
      [host.document, 'visibilitychange', changed],
      [win, 'online', changed],
      [win, 'offline', changed],
      [win, 'pagehide', leaving],
    ];
    pairs.forEach(([target, type, fn]) => target?.addEventListener(type, fn));
    return () => pairs.forEach(([target, type, fn]) => target?.removeEventListener(type, fn));
  },
};
