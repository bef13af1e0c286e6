// The Vue page: syncwire/vue composables in setup(), the same markup as the other pages.
import { createApp, defineComponent, h } from 'vue';
import { useSyncHealth, useSyncState } from 'syncwire/vue';
import { chatNames, countRender, pageStore, sameNames } from './shared.js';

const store = pageStore();

const Chats = defineComponent({
  setup() {
    const names = useSyncState(store, chatNames, sameNames);
    return () => {
      countRender();
      return h(
        'ul',
        { id: 'chats' },
        names.value.map((name, i) => h('li', { key: i }, name)),
      );
    };
  },
});

const App = defineComponent({
  setup() {
    const health = useSyncHealth(store);
    return () =>
      h('main', [
        h('p', { id: 'mode' }, health.value.mode),
        h('p', { id: 'source' }, String(health.value.source)),
        h(Chats),
      ]);
  },
});

createApp(App).mount('#app');
store.start();
