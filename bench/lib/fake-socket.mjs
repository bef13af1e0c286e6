// A SocketLike (see src/client/socket.ts) for in-process loops: it connects at
// once, answers state_request like the reference server (push_correlation),
// and lets the bench fire events synchronously.
export class FakeSocket {
  constructor({ auth }, epoch = 'bench-epoch') {
    this.auth = auth;
    this.epoch = epoch;
    this.connected = false;
    this.active = false;
    this.listeners = new Map();
    /** The correlationId of the last state_request: pushes of its period carry it. */
    this.period = null;
  }
  connect() {
    this.active = true;
    this.auth(() => {
      this.connected = true;
      this.fire('connect');
    });
  }
  disconnect() {
    this.active = false;
    if (!this.connected) return;
    this.connected = false;
    this.fire('disconnect', 'io client disconnect');
  }
  on(event, fn) {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
  }
  off(event, fn) {
    this.listeners.set(
      event,
      (this.listeners.get(event) ?? []).filter((f) => f !== fn),
    );
  }
  emit(event, payload, ack) {
    if (event !== 'state_request' || typeof ack !== 'function') return;
    this.period = payload.correlationId;
    setTimeout(
      () =>
        ack({
          correlationId: this.period,
          results: [
            {
              handlerId: 'bench',
              ok: true,
              data: { runtime_epoch: this.epoch, seq_base: 1, push_correlation: true },
            },
          ],
        }),
      0,
    );
  }
  fire(event, ...args) {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
}

/** socketFactory option value; `.last` is the socket it built. */
export function fakeSocketFactory() {
  const f = (init) => (f.last = new FakeSocket(init));
  return f;
}
