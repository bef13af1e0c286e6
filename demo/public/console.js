// The event console: a ring buffer of what the clients send, receive and go
// through. It listens through the clients' shared logger, whose categories are
// enabled only while the console is open, so a closed console costs nothing.
// Methods use `this`: called through Alpine's store proxy, their writes are reactive.

const CAPACITY = 500;
let nextId = 1;

function classify(category, message, details) {
  if (category === 'request')
    return [message === 'ack' ? 'inbound' : 'outbound', `${message} ${details.event ?? ''}`.trim()];
  if (category === 'connect') return [message === 'error' ? 'error' : 'lifecycle', message];
  return [message.startsWith('mode ') ? 'lifecycle' : 'inbound', message];
}

export function createEventConsole(logger) {
  return {
    open: false,
    paused: false,
    handledOnly: false,
    capacity: CAPACITY,
    entries: [],
    /** The logger sink: (category, message, details). */
    record(category, message, details = {}) {
      if (this.paused) return;
      const [kind, event] = classify(category, message, details);
      const detail = Object.entries(details)
        .filter(([k]) => k !== 'event')
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' ');
      this.entries.push({
        id: nextId++,
        at: new Date().toISOString().slice(11, 23),
        kind,
        event,
        detail,
      });
      if (this.entries.length > CAPACITY) this.entries.splice(0, this.entries.length - CAPACITY);
    },
    /** Newest first; "handled only" keeps what reached a subscriber or failed validation. */
    visible() {
      const list = this.handledOnly
        ? this.entries.filter((e) => e.kind === 'inbound' || e.kind === 'error')
        : this.entries;
      return list.slice(-200).reverse();
    },
    toggle() {
      this.open = !this.open;
      logger.enable(this.open);
    },
    clear() {
      this.entries.splice(0);
    },
    /** Detach and attach again (after a long sleep, or to start from a clean slate). */
    resubscribe() {
      logger.enable(false);
      this.clear();
      logger.enable(this.open);
    },
  };
}
