// The React page: syncwire/react on react-dom/client, the same markup as the other pages.
import { createElement as h, memo, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { useSyncHealth, useSyncState } from 'syncwire/react';
import { chatNames, countRender, pageStore, sameNames } from './shared.js';

const store = pageStore();

// memo: the list renders when its selection changes, not whenever the health above it does.
const Chats = memo(function Chats() {
  const names = useSyncState(store, chatNames, sameNames);
  countRender();
  return h(
    'ul',
    { id: 'chats' },
    names.map((name, i) => h('li', { key: i }, name)),
  );
});

function App() {
  const health = useSyncHealth(store);
  return h(
    'main',
    null,
    h('p', { id: 'mode' }, health.mode),
    h('p', { id: 'source' }, String(health.source)),
    h(Chats),
  );
}

createRoot(document.getElementById('app')).render(h(StrictMode, null, h(App)));
store.start();
