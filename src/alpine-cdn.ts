/**
 * The `<script>` build of the Alpine plugin (global `SyncwireAlpine`). Load it
 * after `syncwire.iife.min.js` and before Alpine's CDN script; it registers on
 * `alpine:init`. Configuration comes from the script tag:
 *
 * ```html
 * <script src="syncwire-alpine.iife.min.js" data-namespace="/state_sync" data-store="sync"
 *         data-model="agent-zero" data-persist="a0-state"></script>
 * ```
 *
 * This is the only file that touches globals (`window.Syncwire`, `window.Alpine`).
 */
import { createAgentZeroModel } from './agent-zero';
import { SyncwireError } from './errors';
import { syncwirePlugin, type AlpineLike, type SyncwirePlugin } from './alpine';
import type * as Core from './index';
import type * as Persist from './persist';

type Globals = {
  Syncwire?: typeof Core;
  SyncwirePersist?: typeof Persist;
  Alpine?: AlpineLike & { plugin(p: unknown): void };
};

const script =
  typeof document !== 'undefined' ? (document.currentScript as HTMLScriptElement | null) : null;
const config = { ...(script?.dataset ?? {}) };

/** The plugin instance once Alpine initialised (for `dispose()`), and the helpers it was built from. */
export const registered: { plugin?: SyncwirePlugin } = {};
export { syncwirePlugin, createAgentZeroModel };

if (typeof document !== 'undefined') {
  document.addEventListener('alpine:init', () => {
    const g = window as unknown as Globals;
    const core = g.Syncwire;
    // The page's SyncwireError when the core is there; a copy of the class when it is not.
    const Err = core?.SyncwireError ?? SyncwireError;
    if (!core || !g.Alpine)
      throw new Err(
        'VALIDATION_ERROR',
        'syncwire-alpine needs window.Syncwire (load syncwire.iife.min.js first) and Alpine',
        { details: { field: 'script order' } },
      );
    const client = core.getNamespacedClient(
      config.namespace ?? '/state_sync',
      config.url ? { url: config.url } : undefined,
    );
    const model = config.model === 'none' ? {} : createAgentZeroModel();
    // data-persist needs syncwire-persist.iife.min.js too (it brings idb-keyval).
    const persist = config.persist && g.SyncwirePersist?.persistence({ key: config.persist });
    if (config.persist && !persist)
      throw new Err(
        'VALIDATION_ERROR',
        'syncwire-alpine: data-persist needs syncwire-persist.iife.min.js, loaded before it',
        { details: { field: 'data-persist' } },
      );
    const store = core.createSyncStore({ client, ...model, persist: persist || false });
    registered.plugin = syncwirePlugin({ store, client, name: config.store ?? 'sync' });
    g.Alpine.plugin(registered.plugin);
  });
}
