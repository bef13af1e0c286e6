import { describe, expect, it, vi } from 'vitest';
import { fail, isSyncwireError, type SyncwireError } from '../../src/errors';
import { openTabChannel } from '../../src/tabs/channel';
import { TABS_VERSION } from '../../src/tabs/messages';
import { createRelay } from '../../src/tabs/relay';
import { createFakeBus } from '../helpers/fake-bus';
import { createFakeClock, flush, type FakeClock } from '../helpers/fake-clock';
import {
  ackOf,
  asRelayClient,
  createFakeRelayClient,
  envelopeOf,
} from '../helpers/fake-relay-client';

type Bus = ReturnType<typeof createFakeBus>;

/** A tab's relay on `bus`, reporting into `errors`. */
const tab = (bus: Bus, clock: FakeClock, id: string) => {
  const port = bus.open('app');
  const errors: SyncwireError[] = [];
  const channel = openTabChannel({ channel: port, name: 'app', tabId: id });
  const relay = createRelay({
    channel,
    clock,
    requestTimeoutMs: 1000,
    onError: (e) => errors.push(e),
  });
  return { relay, channel, port, errors };
};

/** A leader L with a fake client, and followers following it. */
const setup = (followers = ['F'], manual = false) => {
  const clock = createFakeClock();
  const bus = createFakeBus({ manual });
  const leader = tab(bus, clock, 'L');
  const client = createFakeRelayClient();
  leader.relay.lead(asRelayClient(client));
  const tabs = followers.map((id) => tab(bus, clock, id));
  tabs.forEach((t) => t.relay.follow('L'));
  return { clock, bus, leader, client, tabs, f: tabs[0]! };
};

/** How a promise settled: 'ok' with its value, or the error's code. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (e: SyncwireError) => ({ ok: false as const, code: e.code, error: e }),
  );

const msg = (kind: string, from: string, body: unknown) => ({
  v: TABS_VERSION,
  channel: 'app',
  from,
  kind,
  body,
});

describe('createRelay: calls', () => {
  it("carries out a follower's request on the leader's client and answers with its value", async () => {
    const { client, f, clock } = setup();
    const p = outcome(f.relay.request('echo', { x: 1 }, { timeoutMs: 500 }));
    await flush();
    expect(client.calls).toHaveLength(1);
    const [held] = client.calls;
    expect(held).toMatchObject({ op: 'request', event: 'echo', data: { x: 1 } });
    expect(held!.opts.timeoutMs).toBe(500);
    expect(held!.opts.correlationId).toMatch(/^relay-/);
    held!.resolve(ackOf(held!.opts.correlationId!, { y: 2 }));
    await flush();
    expect(await p).toEqual({ ok: true, value: ackOf(held!.opts.correlationId!, { y: 2 }) });
    expect(clock.pending()).toBe(0);
  });

  it("passes the caller's correlation id to the server, and calls onAck", async () => {
    const { client, f } = setup();
    const onAck = vi.fn();
    const p = f.relay.request('echo', {}, { correlationId: 'mine', onAck });
    await flush();
    expect(client.calls[0]!.opts.correlationId).toBe('mine');
    client.calls[0]!.resolve(ackOf('mine', {}));
    expect((await p).correlationId).toBe('mine');
    expect(onAck).toHaveBeenCalledWith(ackOf('mine', {}));
  });

  it("settles with the leader's typed error: the same code and message", async () => {
    const { client, f } = setup();
    const p = outcome(f.relay.request('echo', {}));
    await flush();
    client.calls[0]!.reject(fail('OVERFLOW', "'echo': 1000 calls already pending"));
    const r = await p;
    expect(r).toMatchObject({ ok: false, code: 'OVERFLOW' });
    expect(isSyncwireError(!r.ok && r.error, 'OVERFLOW')).toBe(true);
    expect(!r.ok && r.error.message).toBe("'echo': 1000 calls already pending");
  });

  it("relays an emit, and a leader's non-syncwire error as HANDLER_ERROR", async () => {
    const { client, f } = setup();
    const ok = outcome(f.relay.emit('note', { a: 1 }));
    const bad = outcome(f.relay.emit('note', { a: 2 }));
    await flush();
    expect(client.calls.map((c) => c.op)).toEqual(['emit', 'emit']);
    client.calls[0]!.resolve('ignored');
    client.calls[1]!.reject(new TypeError('boom'));
    expect(await ok).toEqual({ ok: true, value: undefined });
    expect(await bad).toMatchObject({ ok: false, code: 'HANDLER_ERROR' });
  });

  it('relays confirm: false, so a server that never acknowledges emits is not waited for', async () => {
    const { client, f } = setup();
    const sent = outcome(f.relay.emit('note', { a: 1 }, { confirm: false }));
    const confirmed = outcome(f.relay.emit('note', { a: 2 }));
    await flush();
    expect(client.calls.map((c) => c.opts.confirm)).toEqual([false, true]);
    client.calls[0]!.resolve(); // the leader's client: handed to its socket
    expect(await sent).toEqual({ ok: true, value: undefined });
    client.calls[1]!.resolve();
    expect(await confirmed).toEqual({ ok: true, value: undefined });
  });

  it('ends with TIMEOUT at its own deadline when no answer comes; a late one is ignored', async () => {
    const { client, f, clock } = setup();
    const p = outcome(f.relay.request('echo', {}, { timeoutMs: 300 }));
    await clock.advance(299);
    await clock.advance(1);
    expect(await p).toMatchObject({ ok: false, code: 'TIMEOUT' });
    client.calls[0]!.resolve(ackOf('x', {}));
    await flush();
    expect(f.errors).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('uses the default deadline (requestTimeoutMs) when the call names none', async () => {
    const { f, clock } = setup();
    const p = outcome(f.relay.emit('note'));
    await clock.advance(999);
    const seen = vi.fn();
    void p.then(seen);
    await flush();
    expect(seen).not.toHaveBeenCalled();
    await clock.advance(1);
    expect(await p).toMatchObject({ code: 'TIMEOUT' });
  });

  it('ends calls sent to a leader that is lost, replaced, or when disposed, with DISCONNECTED', async () => {
    const { f, clock, bus } = setup(['F']);
    const lost = outcome(f.relay.request('echo', {}));
    await flush();
    f.relay.leaderLost();
    expect(await lost).toMatchObject({ code: 'DISCONNECTED' });
    f.relay.follow('L');
    const replaced = outcome(f.relay.request('echo', {}));
    f.relay.follow('L2');
    expect(await replaced).toMatchObject({ code: 'DISCONNECTED' });
    const disposed = outcome(f.relay.request('echo', {}));
    f.relay.dispose();
    expect(await disposed).toMatchObject({ code: 'DISCONNECTED' });
    expect(await outcome(f.relay.request('echo', {}))).toMatchObject({ code: 'DISPOSED' });
    expect(clock.pending()).toBe(0);
    expect(bus.listenerCount(f.port)).toBe(2); // the channel is the caller's to close
  });

  it('a call made with no leader known waits for one, and runs here if this tab leads', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const leader = tab(bus, clock, 'L');
    const client = createFakeRelayClient();
    leader.relay.lead(asRelayClient(client));
    const f = tab(bus, clock, 'F');
    const waiting = outcome(f.relay.request('echo', { n: 1 }, { timeoutMs: 500 }));
    await clock.advance(100);
    expect(client.calls).toHaveLength(0);
    f.relay.follow('L');
    await flush();
    expect(client.calls[0]!.opts.timeoutMs).toBe(400); // what is left of its deadline
    client.calls[0]!.resolve(ackOf('c', {}));
    expect(await waiting).toMatchObject({ ok: true });

    const g = tab(bus, clock, 'G');
    const own = createFakeRelayClient();
    const queued = outcome(g.relay.emit('note', {}, { timeoutMs: 500 }));
    g.relay.lead(asRelayClient(own));
    expect(own.calls).toHaveLength(1);
    own.calls[0]!.resolve();
    expect(await queued).toEqual({ ok: true, value: undefined });
  });

  it('ignores results for another tab, from another tab, for unknown or settled ids', async () => {
    const { client, f, bus } = setup();
    const p = outcome(f.relay.request('echo', {}, { timeoutMs: 500 }));
    await flush();
    const id = client.calls[0]!.opts.correlationId!;
    const result = (over: object) => ({
      id,
      to: 'F',
      ok: false,
      value: undefined,
      error: { code: 'TIMEOUT', message: 'x' },
      ...over,
    });
    bus.inject('app', msg('result', 'L', result({ to: 'G' })));
    bus.inject('app', msg('result', 'X', result({})));
    bus.inject('app', msg('result', 'L', result({ id: 'relay-unknown' })));
    client.calls[0]!.resolve(ackOf(id, { first: true }));
    expect(await p).toMatchObject({ ok: true, value: { results: [{ data: { first: true } }] } });
    bus.inject('app', msg('result', 'L', result({})));
    expect(f.errors).toEqual([]);
  });

  it('checks the ack another tab relays: a malformed one is INVALID_ENVELOPE', async () => {
    const { client, f, bus } = setup(['F'], true);
    const p = outcome(f.relay.request('echo', {}));
    bus.deliverAll();
    const id = JSON.parse(JSON.stringify(client.calls[0]!.opts)).correlationId as string;
    bus.inject(
      'app',
      msg('result', 'L', { id, to: 'F', ok: true, value: { nope: 1 }, error: null }),
    );
    expect(await p).toMatchObject({ ok: false, code: 'INVALID_ENVELOPE' });
  });

  it('a duplicated request is carried out once; one addressed to another tab not at all', async () => {
    const { client, f, bus } = setup(['F'], true);
    const p = outcome(f.relay.request('echo', {}));
    bus.duplicate(0);
    bus.deliverAll();
    await flush();
    expect(client.calls).toHaveLength(1);
    const body = {
      id: 'r1',
      to: 'G',
      correlationId: null,
      op: 'request',
      event: 'echo',
      data: {},
      timeoutMs: 5,
    };
    bus.inject('app', msg('request', 'F', body));
    expect(client.calls).toHaveLength(1);
    f.relay.dispose();
    expect(await p).toMatchObject({ code: 'DISCONNECTED' });
  });

  it('rejects a bad call at once, as the client would, without posting it', async () => {
    const { f, bus, clock } = setup(['F'], true);
    const bad = [
      f.relay.request('Bad-Name', {}),
      f.relay.request('echo', {}, { timeoutMs: -1 }),
      f.relay.request('echo', {}, { correlationId: 'x'.repeat(201) }),
      f.relay.emit('echo', { fn: () => 1 }),
    ];
    for (const p of bad) expect(await outcome(p)).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(bus.inFlight).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it('an aborted call ends with ABORTED and lets go of its signal', async () => {
    const { f, clock } = setup();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const p = outcome(f.relay.request('echo', {}, { signal: controller.signal }));
    controller.abort();
    expect(await p).toMatchObject({ code: 'ABORTED' });
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
    expect(clock.pending()).toBe(0);
    const pre = new AbortController();
    pre.abort();
    expect(await outcome(f.relay.emit('x', {}, { signal: pre.signal }))).toMatchObject({
      code: 'ABORTED',
    });
  });

  it('while leading, calls go straight to the client', async () => {
    const { leader, client } = setup();
    const p = leader.relay.request('echo', { a: 1 }, { correlationId: 'own' });
    expect(client.calls[0]).toMatchObject({ event: 'echo', opts: { correlationId: 'own' } });
    client.calls[0]!.resolve(ackOf('own', {}));
    await expect(p).resolves.toEqual(ackOf('own', {}));
  });
});

describe('createRelay: events', () => {
  it('relays the server events a follower asked for, checked, to its subscribers', async () => {
    const { client, f } = setup();
    const heard = vi.fn();
    f.relay.on('chat', heard);
    await flush();
    expect(client.relayed()).toEqual(['chat']);
    client.push('chat', envelopeOf({ text: 'hi' }));
    client.push('chat', { not: 'an envelope' });
    client.push('other', envelopeOf({}));
    await flush();
    expect(heard).toHaveBeenCalledTimes(1);
    expect(heard.mock.calls[0]![0]).toEqual(envelopeOf({ text: 'hi' }));
    expect(f.errors.map((e) => e.code)).toEqual(['INVALID_ENVELOPE']);
  });

  it('stops asking when the last callback goes; other followers keep theirs', async () => {
    const { client, tabs } = setup(['F', 'G']);
    const [f, g] = tabs as [ReturnType<typeof tab>, ReturnType<typeof tab>];
    const a = vi.fn();
    const b = vi.fn();
    const offA = f.relay.on('chat', a);
    f.relay.on('chat', b);
    const offG = g.relay.on('chat', vi.fn());
    await flush();
    offA();
    f.relay.off('chat', b);
    await flush();
    expect(client.relayed()).toEqual(['chat']); // G still wants it
    offG();
    await flush();
    expect(client.relayed()).toEqual([]);
  });

  it('a late, older subscription list does not undo a newer one', () => {
    const { client, f, bus } = setup(['F'], true);
    const off = f.relay.on('chat', vi.fn());
    off();
    bus.deliver(1); // the empty list first
    bus.deliver(0); // then the older one asking for chat
    expect(client.relayed()).toEqual([]);
  });

  it('a callback that throws is reported; the others still hear the event', async () => {
    const { client, f } = setup();
    const after = vi.fn();
    f.relay.on('chat', () => {
      throw new Error('bad subscriber');
    });
    f.relay.on('chat', after);
    await flush();
    client.push('chat', envelopeOf({}));
    await flush();
    expect(after).toHaveBeenCalledTimes(1);
    expect(f.errors.map((e) => e.code)).toEqual(['HANDLER_ERROR']);
  });

  it('events from a tab that is not the leader are ignored', () => {
    const { f, bus } = setup();
    const heard = vi.fn();
    f.relay.on('chat', heard);
    bus.inject('app', msg('event', 'X', { event: 'chat', payload: envelopeOf({}) }));
    expect(heard).not.toHaveBeenCalled();
  });

  it("moves this tab's subscriptions with its role; a new leader relays what followers ask", async () => {
    const { client, leader, f } = setup();
    const mine = vi.fn();
    f.relay.on('chat', mine);
    leader.relay.on('status', vi.fn());
    await flush();
    expect(client.subscribed()).toEqual(['status']);
    // L steps down, F leads with its own client; L follows F and asks it for status.
    const next = createFakeRelayClient();
    f.relay.lead(asRelayClient(next));
    leader.relay.follow('F');
    await flush();
    expect(client.listeners()).toBe(0);
    expect(next.subscribed()).toEqual(['chat']);
    expect(next.relayed()).toEqual(['status']);
    next.push('chat', envelopeOf({}));
    expect(mine).toHaveBeenCalledTimes(1);
  });

  it('dispose leaves no subscription, relayed event, timer or handler behind', async () => {
    const { client, leader, f, clock } = setup();
    f.relay.on('chat', vi.fn());
    leader.relay.on('status', vi.fn());
    void outcome(f.relay.request('echo', {}));
    await flush();
    f.relay.dispose();
    await flush();
    expect(client.relayed()).toEqual([]); // F said it wants nothing any more
    leader.relay.dispose();
    expect(client.listeners()).toBe(0);
    expect(clock.pending()).toBe(0);
    client.calls[0]!.resolve(ackOf('x', {})); // the answer has nowhere to go
    await flush();
    expect(f.errors).toEqual([]);
  });
});
