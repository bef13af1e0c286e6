/**
 * Event maps: the names and payloads of a client's events, one map per direction, like
 * socket.io's `Socket<ServerToClientEvents, ClientToServerEvents>`. Types only: nothing here
 * exists at run time, and payloads are what the server claims (the client checks envelopes,
 * not the data inside them).
 */

/**
 * One event the client sends: the `data` it carries and, for `request()`, the `data` of each
 * handler's result. Leave `data` out (or make it optional) for an event sent without data; leave
 * `result` out for `Record<string, unknown>`.
 */
export interface ClientEvent {
  data?: object | null;
  result?: object;
}

/**
 * The events of a namespace, for `createNamespacedClient<Events>()` and
 * `getNamespacedClient<Events>()`. `server` maps each event the server sends to its payload
 * (the envelope's `data`, always an object); `client` maps each event the client sends to a
 * {@link ClientEvent}. A typed side accepts only the names it lists; a side left out stays
 * untyped (any name, `Record<string, unknown>` data), as a client created without a map.
 *
 * @example
 * ```ts
 * interface DevEvents {
 *   server: { server_restart: { runtimeId: string } };
 *   client: { echo: { data: { hello: number }; result: { hello: number } } };
 * }
 * const ws = getNamespacedClient<DevEvents>('/dev_websocket_test');
 * ws.on('server_restart', ({ data }) => data.runtimeId); // string
 * const { results } = await ws.request('echo', { hello: 1 }); // results[0].data?.hello: number
 * ```
 */
export interface EventMap {
  server?: object;
  client?: object;
}

// A side is typed once the map names it (an optional side reads as left out).
type ServerSide<E> = E extends { server: infer M extends object } ? M : never;
type ClientSide<E> = E extends { client: infer M extends object } ? M : never;

/** The server event names `on()`, `off()` and `onPayload()` take from a map's typed `server` side (never while it is untyped). */
export type ServerEventName<E extends EventMap> = [ServerSide<E>] extends [never]
  ? never
  : keyof ServerSide<E> & string;

/** The client event names `emit()` and `request()` take from a map's typed `client` side (never while it is untyped). */
export type ClientEventName<E extends EventMap> = [ClientSide<E>] extends [never]
  ? never
  : keyof ClientSide<E> & string;

/**
 * The event names a side the map leaves out takes: every string; none once the map types that
 * side. The untyped signatures of a client's methods take these.
 */
export type UntypedServerName<E extends EventMap> = E extends { server: object } ? never : string;
/** The client-side counterpart of {@link UntypedServerName}. */
export type UntypedClientName<E extends EventMap> = E extends { client: object } ? never : string;

// An untyped side gives the untyped defaults, so the typed signatures of a client without a
// map (dead: their event name is never) match its untyped ones, and a typed client stays
// assignable to `NamespacedClient`.

/** The payload (envelope `data`) of server event `K`. */
export type ServerPayload<E extends EventMap, K extends string> = [ServerSide<E>] extends [never]
  ? Record<string, unknown>
  : Extract<ServerSide<E>[K & keyof ServerSide<E>], object>;

type ClientEntry<E, K> = ClientSide<E>[K & keyof ClientSide<E>];

/** The data client event `K` sends (`null | undefined` when its entry has no `data`). */
export type ClientData<E extends EventMap, K extends string> = [ClientSide<E>] extends [never]
  ? object | null | undefined
  : 'data' extends keyof ClientEntry<E, K>
    ? ClientEntry<E, K>['data' & keyof ClientEntry<E, K>]
    : null | undefined;

/** The `data` of each handler's result to a request of client event `K`. */
export type ClientResult<E extends EventMap, K extends string> = [ClientSide<E>] extends [never]
  ? Record<string, unknown>
  : 'result' extends keyof ClientEntry<E, K>
    ? Exclude<ClientEntry<E, K>['result' & keyof ClientEntry<E, K>], undefined>
    : Record<string, unknown>;

/**
 * @internal The arguments after the event name: data may be left out when the event's data
 * accepts `undefined`, so `request('ping')` reads like the untyped call.
 */
export type CallArgs<D, O> = undefined extends D ? [data?: D, options?: O] : [data: D, options?: O];
