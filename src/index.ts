/**
 * syncwire: a Socket.IO state-sync client. Everything public is exported here
 * by name; nothing runs at import time.
 */
export { SyncwireError, isSyncwireError, type SyncwireErrorCode } from './errors';
export { systemClock, backoffDelay, type Clock, type TimerHandle } from './clock';
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
export { createClientRegistry, getNamespacedClient, type ClientRegistry } from './client/registry';
export type { AuthOption, AuthContext } from './client/auth';
export type { SocketLike, SocketFactory, SocketListener, SocketIoOptions } from './client/socket';
export {
  createSyncStore,
  defaultPayload,
  type SyncStore,
  type SyncStoreOptions,
  type SyncStoreEvent,
  type SyncHealth,
  type ReduceContext,
  type PersistPlugin,
  type PersistSession,
  type PersistHost,
  type CachedState,
} from './store/store';
export {
  transition,
  initialMachineState,
  type SyncMode,
  type MachineState,
  type MachineEvent,
  type Effect,
  type Timing,
  type TimerName,
  type PushIn,
} from './store/machine';

export type { EnvironmentSource, EnvironmentState } from './store/env';
