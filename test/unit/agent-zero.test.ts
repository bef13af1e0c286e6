// The Agent Zero model (syncwire/agent-zero) in a sync store on fakes: its reducer against
// malformed (hostile or buggy) server data.
import { describe, expect, it } from 'vitest';
import { createAgentZeroModel } from '../../src/agent-zero';
import { flush } from '../helpers/fake-clock';
import { storeHarness } from '../helpers/store-harness';

const snapshot = (extra: Record<string, unknown> = {}) => ({
  deselect_chat: false,
  context: '',
  contexts: [],
  tasks: [],
  logs: [],
  log_guid: '',
  log_version: 0,
  log_progress: 0,
  log_progress_active: false,
  paused: false,
  notifications: [],
  notifications_guid: 'n1',
  notifications_version: 0,
  ...extra,
});

describe('Agent Zero model and a malformed list item', () => {
  it('one null notification in a push does not put the store in FAILED', async () => {
    const model = createAgentZeroModel({ timezone: 'UTC' });
    const h = storeHarness({ ...model });
    await h.healthy(snapshot({ notifications: [{ id: 'a', no: 1 }], notifications_version: 1 }));
    expect(h.store.state.notifications).toHaveLength(1);
    // A wrong-typed item inside an otherwise valid snapshot (SECURITY.md: "wrong types ... never changes the state").
    await h.push(3, snapshot({ notifications: [null], notifications_version: 2 }));
    // The full resync that follows gets the same server data.
    await h.ack();
    await h.push(
      2,
      snapshot({ notifications: [{ id: 'a', no: 1 }, null], notifications_version: 2 }),
    );
    await flush();
    expect(h.store.mode).toBe('HEALTHY'); // not FAILED, which would stop live updates until resync()
    expect(h.errors.map((e) => e.code)).not.toContain('REDUCE_ERROR'); // no TypeError reading 'id' of null
  });
});
