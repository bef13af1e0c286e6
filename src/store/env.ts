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

/** @internal the browser's signals; in a non-browser host it reports "visible and online". */
export const browserEnvironment: EnvironmentSource = {
  read: () => ({
    hidden: typeof document != 'undefined' && document.visibilityState == 'hidden',
    online: typeof navigator == 'undefined' || navigator.onLine !== false,
  }),
  subscribe(listener) {
    const doc = typeof document != 'undefined' ? document : undefined;
    const win = typeof window != 'undefined' && typeof window.addEventListener == 'function' ? window : undefined;
    const changed = () => listener(browserEnvironment.read());
    const leaving = () => listener({ ...browserEnvironment.read(), leaving: true });
    const pairs: [EventTarget | undefined, string, () => void][] = [
      [doc, 'visibilitychange', changed],
      [win, 'online', changed],
      [win, 'offline', changed],
      [win, 'pagehide', leaving],
    ];
    pairs.forEach(([target, type, fn]) => target?.addEventListener(type, fn));
    return () => pairs.forEach(([target, type, fn]) => target?.removeEventListener(type, fn));
  },
};
