// Plain-script demo: everything from the server is rendered as text, never HTML.
const { createNamespacedClient, createSyncStore } = window.Syncwire;
const $ = (id) => document.getElementById(id);

const test = createNamespacedClient('/dev_websocket_test');
test.onConnect((info) => {
  $('conn').textContent = 'connected';
  $('runtime').textContent = info.runtimeId || '?';
});
test.onDisconnect((reason) => ($('conn').textContent = 'disconnected: ' + reason));
$('send').addEventListener('click', async () => {
  try {
    const res = await test.request('echo', { text: $('msg').value }, { timeoutMs: 3000 });
    $('reply').textContent = JSON.stringify(res, null, 2);
  } catch (e) {
    $('reply').textContent = e.code + ': ' + e.message;
  }
});
test.connect().catch(() => {});

const sync = createNamespacedClient('/state_sync');
const store = createSyncStore({ client: sync });
store.subscribe(() => {
  const h = store.health;
  $('mode').textContent = h.mode;
  $('mode').className = 'badge ' + h.mode;
  $('epoch').textContent = h.epoch || '?';
  $('seq').textContent = String(h.lastSeq);
  const list = $('chats');
  list.replaceChildren(
    ...(store.state.contexts || []).map((c) => {
      const li = document.createElement('li');
      li.textContent = `${c.name} (${c.log_length} log items)`;
      return li;
    }),
  );
});
store.start();
window.__syncwire = { test, sync, store };
