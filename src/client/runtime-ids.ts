/**
 * What the client knows of the server process it talks to: Agent Zero names each run of its
 * server with a runtime id, learned from a token answer, from `server_restart` and at connect.
 * A connect to another runtime than the last one is a restart, not a reconnect.
 */
import { isPlainObject } from '../util';
import type { ConnectInfo } from './api';

/** @internal The runtime ids of one client. */
export interface RuntimeIds {
  /** The latest known runtime id (what `client.runtimeId` shows). */
  readonly latest: string | undefined;
  /** A token answer named the runtime. */
  learn(id: string): void;
  /** The server's `server_restart` event (sent inside its connect handler, before `connect`). */
  onRestart(raw: unknown): void;
  /** The socket connected: what the connect listeners are told. */
  onConnect(): ConnectInfo;
}

/** @internal */
export function createRuntimeIds(): RuntimeIds {
  let known: string | undefined;
  // From server_restart, waiting for the connect it precedes.
  let announced: string | undefined;
  // The runtime of the last connect, to tell a restart from a reconnect.
  let connected: string | undefined;
  let everConnected = false;
  return {
    get latest() {
      return known;
    },
    learn(id) {
      known = id;
    },
    onRestart(raw) {
      const id = isPlainObject(raw) && isPlainObject(raw.data) ? raw.data.runtimeId : undefined;
      if (typeof id !== 'string') return;
      announced = id;
      known = id;
    },
    onConnect() {
      // server_restart arrives before `connect`, so its runtime id is the freshest we have.
      const id = announced ?? known;
      announced = undefined;
      const info: ConnectInfo = {
        firstConnect: !everConnected,
        runtimeChanged: Boolean(id && connected && id !== connected),
      };
      if (id) {
        connected = id;
        info.runtimeId = id;
      }
      everConnected = true;
      return info;
    },
  };
}
