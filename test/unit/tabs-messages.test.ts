import { describe, expect, it, vi } from 'vitest';
import { isSyncwireError, type SyncwireError } from '../../src/index';
import { openTabChannel } from '../../src/tabs/channel';
import { readTabMessage, tabMessage, TABS_VERSION, type WireHealth } from '../../src/tabs/messages';
import { createFakeBus } from '../helpers/fake-bus';
import { flush } from '../helpers/fake-clock';

const health: WireHealth = {
  mode: 'HEALTHY',
  connected: true,
  epoch: 'e1',
  lastSeq: 4,
  lastAppliedAt: 1_700_000_000_000,
  source: 'push',
  confirmedAt: 1_700_000_000_000,
  lastError: null,
  counters: { pushesApplied: 5, pushesDropped: 0, resyncs: 1, polls: 0, handshakes: 1 },
};
const good = {
  hello: {},
  state: { term: 7, n: 1, sn: 1, state: { a: [1] }, health },
  request: {
    id: 'c1',
    to: 'tab-l',
    correlationId: null,
    op: 'request',
    event: 'echo',
    data: { x: 1 },
    timeoutMs: 500,
    confirm: true,
  },
  result: {
    id: 'c1',
    to: 'tab-f',
    ok: false,
    value: undefined,
    error: { code: 'TIMEOUT', message: 'late' },
  },
  event: { event: 'state_push', payload: { any: 'thing' } },
  resync: { reason: 'user asked' },
  subscribe: { n: 3, events: ['state_push', 'chat_message'] },
  lead: { term: 1_700_000_000_000 },
  claim: { term: 0 },
  resign: { term: 12 },
  probe: {},
} as const;
const msg = (kind: string, body: unknown, over: object = {}) => ({
  v: TABS_VERSION,
  channel: 'app',
  from: 'tab-x',
  kind,
  body,
  ...over,
});

/** The field an INVALID_ENVELOPE names, reading `value` as a message of 'app'. */
const badField = (value: unknown) => {
  try {
    readTabMessage(value, 'app');
  } catch (e) {
    expect(isSyncwireError(e, 'INVALID_ENVELOPE')).toBe(true);
    return ((e as SyncwireError).details as { field: string }).field;
  }
  throw new Error('accepted');
};

describe('readTabMessage', () => {
  it.each(Object.entries(good))('reads a %s message into an equal copy', (kind, body) => {
    const value = structuredClone(msg(kind, body));
    const read = readTabMessage(value, 'app');
    expect(read).toEqual(value);
    expect(read).not.toBe(value);
    expect(read.body).not.toBe(value.body);
  });

  it('keeps only the fields a kind names', () => {
    const read = readTabMessage(msg('resync', { reason: 'r', extra: 1 }, { more: 2 }), 'app');
    expect(read).toEqual(msg('resync', { reason: 'r' }));
    expect(readTabMessage(msg('lead', { term: 3, leader: true }), 'app').body).toEqual({ term: 3 });
    expect(readTabMessage(msg('probe', { any: 1 }), 'app').body).toEqual({});
    const ok = readTabMessage(
      msg('result', { id: 'c', to: 't', ok: true, value: 3, error: 'x' }),
      'app',
    );
    expect(ok.body).toEqual({ id: 'c', to: 't', ok: true, value: 3, error: null });
  });

  it.each([
    ['not an object', 'hello', '(message)'],
    [msg('hello', {}, { v: 2 }), 'a newer build', 'v'],
    [msg('hello', {}, { channel: 'other' }), 'another channel', 'channel'],
    [msg('hello', {}, { from: '' }), 'no sender', 'from'],
    [msg('hello', {}, { from: 'x'.repeat(201) }), 'a sender too long', 'from'],
    [msg('hello', {}, { kind: 'toString' }), 'an unknown kind', 'kind'],
    [msg('hello', []), 'a body not a plain object', 'body'],
    [msg('state', { ...good.state, term: -1 }), 'a negative term', 'body.term'],
    [msg('state', { ...good.state, n: 1.5 }), 'a fractional n', 'body.n'],
    [msg('state', { ...good.state, sn: undefined }), 'no sn', 'body.sn'],
    [
      msg('request', { ...good.request, confirm: 'no' }),
      'a confirm that is no boolean',
      'body.confirm',
    ],
    [msg('state', { ...good.state, health: null }), 'no health', 'body.health'],
    [
      msg('state', { ...good.state, health: { ...health, mode: 'OK' } }),
      'a mode',
      'body.health.mode',
    ],
    [
      msg('state', { ...good.state, health: { ...health, lastSeq: -2 } }),
      'a seq',
      'body.health.lastSeq',
    ],
    [
      msg('state', { ...good.state, health: { ...health, epoch: 3 } }),
      'an epoch',
      'body.health.epoch',
    ],
    [
      msg('state', { ...good.state, health: { ...health, source: 'x' } }),
      'a source',
      'body.health.source',
    ],
    [
      msg('state', { ...good.state, health: { ...health, connected: 1 } }),
      'connected',
      'body.health.connected',
    ],
    [
      msg('state', { ...good.state, health: { ...health, confirmedAt: Infinity } }),
      'a time',
      'body.health.confirmedAt',
    ],
    [
      msg('state', { ...good.state, health: { ...health, lastError: { code: 1, message: '' } } }),
      'an error',
      'body.health.lastError.code',
    ],
    [
      msg('state', {
        ...good.state,
        health: { ...health, counters: { ...health.counters, polls: -1 } },
      }),
      'a counter',
      'body.health.counters.polls',
    ],
    [msg('request', { ...good.request, op: 'call' }), 'an op', 'body.op'],
    [msg('request', { ...good.request, event: 'Bad-Name' }), 'an event name', 'body.event'],
    [msg('request', { ...good.request, timeoutMs: 0 }), 'a timeout', 'body.timeoutMs'],
    [msg('request', { ...good.request, id: 5 }), 'an id', 'body.id'],
    [
      msg('request', { ...good.request, correlationId: '' }),
      'a correlation id',
      'body.correlationId',
    ],
    [msg('subscribe', { n: 0, events: [] }), 'a subscribe count', 'body.n'],
    [msg('subscribe', { n: 1, events: 'echo' }), 'events not an array', 'body.events'],
    [msg('subscribe', { n: 1, events: Array(257).fill('echo') }), 'too many events', 'body.events'],
    [msg('subscribe', { n: 1, events: ['ok', 'Bad'] }), 'a bad event name', 'body.events.1'],
    [
      msg('result', { ...good.result, error: { code: 'NOPE', message: '' } }),
      'an error code',
      'body.error.code',
    ],
    [msg('result', { ...good.result, error: null }), 'a failure without error', 'body.error'],
    [msg('event', { event: 7, payload: 1 }), 'an event name', 'body.event'],
    [msg('resync', { reason: null }), 'a reason', 'body.reason'],
    [msg('lead', {}), 'a heartbeat without term', 'body.term'],
    [msg('lead', { term: -1 }), 'a negative term', 'body.term'],
    [msg('claim', { term: 2.5 }), 'a fractional term', 'body.term'],
    [msg('claim', { term: 2 ** 53 }), 'an unsafe term', 'body.term'],
    [msg('resign', { term: '7' }), 'a term as a string', 'body.term'],
    [msg('probe', null), 'a probe without body', 'body'],
  ])('drops %j (%s), naming %s', (value, _what, field) => {
    expect(badField(value)).toBe(field);
  });

  it('says what it expected and what it got', () => {
    expect(() => readTabMessage(msg('state', { ...good.state, term: 'x' }), 'app')).toThrow(
      "tab message field 'body.term': expected an integer >= 0, got string",
    );
  });

  it('reads a request with a correlation id of its own', () => {
    const body = { ...good.request, correlationId: 'mine' };
    expect(readTabMessage(msg('request', body), 'app').body).toEqual(body);
  });

  it('reads a hello with or without the leadership its sender follows', () => {
    expect(readTabMessage(msg('hello', {}), 'app').body).toEqual({});
    const body = { term: 7, leader: 'tab-z' };
    expect(readTabMessage(msg('hello', { ...body, extra: 1 }), 'app').body).toEqual(body);
    expect(() => readTabMessage(msg('hello', { term: -1 }), 'app')).toThrow('body.term');
    expect(() => readTabMessage(msg('hello', { leader: '' }), 'app')).toThrow('body.leader');
  });

  it('builds messages it reads back', () => {
    const built = tabMessage('app', 'tab-a', 'state', good.state);
    expect(readTabMessage(structuredClone(built), 'app')).toEqual(built);
  });
});

describe('openTabChannel', () => {
  it('hands each checked message of another tab to its kind, and reports a bad one', async () => {
    const bus = createFakeBus();
    const errors: SyncwireError[] = [];
    const a = openTabChannel({ channel: bus.open('app'), name: 'app', tabId: 'a' });
    const b = openTabChannel({
      channel: bus.open('app'),
      name: 'app',
      tabId: 'b',
      onError: (e) => errors.push(e),
    });
    const hellos = vi.fn();
    b.handle('hello', hellos);
    a.post('hello', {});
    a.post('resync', { reason: 'nobody handles it' });
    bus.inject('app', { v: 1, channel: 'app', from: 'z', kind: 'hello' });
    bus.inject('app', null, 'messageerror');
    await flush();
    expect(hellos).toHaveBeenCalledTimes(1);
    expect(hellos.mock.calls[0]![0]).toEqual(msg('hello', {}, { from: 'a' }));
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['INVALID_ENVELOPE', "tab message field 'body': expected a plain object, got undefined"],
      ['INVALID_ENVELOPE', 'tab message: the browser could not deserialize it'],
    ]);
  });

  it("drops a message that claims this tab's id", async () => {
    const bus = createFakeBus();
    const a = openTabChannel({ channel: bus.open('app'), name: 'app', tabId: 'same' });
    const b = openTabChannel({ channel: bus.open('app'), name: 'app', tabId: 'same' });
    const heard = vi.fn();
    b.handle('hello', heard);
    a.post('hello', {});
    await flush();
    expect(heard).not.toHaveBeenCalled();
  });

  it('works with an onmessage-only channel, and close() detaches and closes it', async () => {
    const bus = createFakeBus();
    const port = bus.open('app', 'onmessage');
    const close = vi.spyOn(port, 'close');
    const b = openTabChannel({ channel: port, name: 'app', tabId: 'b' });
    const a = openTabChannel({ channel: bus.open('app'), name: 'app', tabId: 'a' });
    const heard = vi.fn();
    b.handle('hello', heard);
    a.post('hello', {});
    await flush();
    expect(heard).toHaveBeenCalledTimes(1);
    b.close();
    b.close();
    expect(port.onmessage).toBeNull();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('close() removes its listeners; posts after it do nothing', () => {
    const bus = createFakeBus();
    const port = bus.open('app');
    const a = openTabChannel({ channel: port, name: 'app', tabId: 'a' });
    expect(bus.listenerCount(port)).toBe(2);
    a.close();
    expect(bus.listenerCount(port)).toBe(0);
    expect(() => a.post('hello', {})).not.toThrow();
  });

  it('reports a post that throws (a state that cannot be cloned) instead of throwing', () => {
    const bus = createFakeBus();
    const onError = vi.fn();
    const a = openTabChannel({ channel: bus.open('app'), name: 'app', tabId: 'a', onError });
    openTabChannel({ channel: bus.open('app'), name: 'app', tabId: 'b' });
    a.post('event', { event: 'x', payload: () => 1 });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(isSyncwireError(onError.mock.calls[0]![0], 'HANDLER_ERROR')).toBe(true);
  });

  it('checks its channel', () => {
    expect(() => openTabChannel({ channel: {} as never, name: 'app', tabId: 'a' })).toThrow(
      /channel: expected a BroadcastChannel-like object/,
    );
  });
});
