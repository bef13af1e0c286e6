// The Svelte page: a Svelte 5 component (App.svelte) reading syncwire/svelte stores with `$`.
import { mount } from 'svelte';
import App from './App.svelte';
import { pageStore } from './shared.js';

const store = pageStore();
mount(App, { target: document.getElementById('app'), props: { store } });
store.start();
