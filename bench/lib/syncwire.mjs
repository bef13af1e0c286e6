// The library under test: dist/ by default, or another build (SYNCWIRE_DIST=.wip/a,
// made by bench/lib/build-esm.mjs) to measure a work-in-progress tree.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const dir = process.env.SYNCWIRE_DIST;
const lib = await import(
  dir ? pathToFileURL(resolve(dir, 'index.js')).href : '../../dist/index.js'
);

export const { createNamespacedClient, createSyncStore, systemClock } = lib;
