/**
 * syncwire: a Socket.IO state-sync client. Everything public is exported here
 * by name; nothing runs at import time.
 */
export { SyncwireError, isSyncwireError, type SyncwireErrorCode } from './errors';
export { systemClock, type Clock, type TimerHandle } from './clock';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  type LogCategory,
  type LogSink,
} from './logger';
export {
  createCorrelationId,
  validateServerEnvelope,
  EVENT_NAME,
  type ServerEnvelope,
  type RequestResult,
  type RequestResponse,
  type ResultError,
  type ClientPayload,
} from './protocol';
export { createNamespacedClient } from './client/client';
export type {
  NamespacedClient,
  ClientOptions,
  ConnectInfo,
  EmitOptions,
  RequestOptions,
  EventCallback,
} from './client/api';
export type {
  EventMap,
  ClientEvent,
  ServerEventName,
  ClientEventName,
  ServerPayload,
  ClientData,
  ClientResult,
  UntypedServerName,
  UntypedClientName,
} from './client/events';
export { createClientRegistry, getNamespacedClient, type ClientRegistry } from './client/registry';
export type { AuthOption, AuthContext } from './client/auth';
export type { FetchLike } from './util';
export type {
  SocketLike,
  SocketFactory,
  SocketListener,
  SocketIoOptions,
  SocketTransport,
} from './client/socket';
export type { ProbeTiming, TransportInfo } from './client/transport';
export type { MemoStorage } from './client/transport-memo';
export {
  createSyncStore,
  defaultPayload,
  type SyncStore,
  type SyncStoreOptions,
  type SyncStoreEvent,
  type SyncHealth,
  type SyncCounters,
  type ReduceContext,
  type PersistPlugin,
  type PersistSession,
  type PersistHost,
  type CachedState,
} from './store/store';
// The store's mode and timing are part of its options and health; the machine itself
// (`transition`, its state, events and effects) is the `syncwire/machine` entry.
export type { SyncMode, Timing } from './store/machine';

export type { EnvironmentSource, EnvironmentState } from './store/env';
