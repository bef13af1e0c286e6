// HTTP routes: /csrf_token, /poll (CSRF, coercion, bare snapshot), CORS, static
// files and the fault/world API.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_KEYS } from '../../demo/server/world.mjs';
import { Harness, csrfToken, http, type ReferenceServer } from './helpers';

const h = new Harness();
let server: ReferenceServer;
let token: string;

beforeAll(async () => {
  server = await h.start();
  token = await csrfToken(server);
});
afterAll(() => h.cleanup());

const firstChat = () =>
  server.world.buildSnapshot({ context: null, log_from: 0, notifications_from: 0, timezone: 'UTC' })
    .contexts[0]!;

describe('/csrf_token', () => {
  it('issues a url-safe token and the runtime id, without setting a cookie', async () => {
    const res = await http(server.url + '/csrf_token');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      ok: true,
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      runtime_id: server.runtime.id,
    });
    expect(server.runtime.id).toMatch(/^[0-9a-f]{16}$/);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('answers CORS with credentials for the test document origin', async () => {
    const res = await http(server.url + '/csrf_token', {
      headers: { Origin: 'http://localhost:3000' },
    });
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    const pre = await http(server.url + '/poll', {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:3000',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-csrf-token',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-headers']).toBe('content-type,x-csrf-token');
  });
});

describe('/poll', () => {
  it('rejects a missing or unknown token with 403', async () => {
    for (const headers of [{}, { 'X-CSRF-Token': 'nope' }] as Record<string, string>[]) {
      const res = await http(server.url + '/poll', { method: 'POST', headers, body: {} });
      expect(res.status).toBe(403);
      expect(res.json).toEqual({ ok: false, error: 'CSRF token missing or invalid' });
    }
  });

  it('returns the bare snapshot with exactly the 13 keys (header or cookie auth, /poll and /api/poll)', async () => {
    const chat = firstChat();
    const before = server.stats.polls;
    const viaHeader = await http(server.url + '/poll', {
      method: 'POST',
      headers: { 'X-CSRF-Token': token },
      body: { context: chat.id, log_from: 0, notifications_from: 0, timezone: 'Europe/Berlin' },
    });
    expect(viaHeader.status).toBe(200);
    expect(Object.keys(viaHeader.json).sort()).toEqual([...SNAPSHOT_KEYS].sort());
    expect(viaHeader.json).toMatchObject({
      deselect_chat: false,
      context: chat.id,
      log_guid: chat.log_guid,
      log_version: chat.log_version,
    });
    expect(viaHeader.json.logs).toHaveLength(chat.log_length);
    const viaCookie = await http(server.url + '/api/poll', {
      method: 'POST',
      headers: { Cookie: `csrf_token_${server.runtime.id}=${token}` },
      body: {
        context: chat.id,
        log_from: chat.log_version,
        notifications_from: 0,
        timezone: 'UTC',
      },
    });
    expect(viaCookie.status).toBe(200);
    expect(viaCookie.json.logs).toEqual([]);
    expect(server.stats.polls).toBe(before + 2);
  });

  it('coerces bad inputs instead of rejecting them', async () => {
    const res = await http(server.url + '/poll', {
      method: 'POST',
      headers: { 'X-CSRF-Token': token },
      body: { context: '', log_from: 'abc', notifications_from: -4, timezone: 'Not/AZone' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      context: '',
      deselect_chat: false,
      logs: [],
      log_guid: '',
      log_version: 0,
      log_progress: 0,
      log_progress_active: false,
      paused: false,
    });
    expect(res.json.notifications.length).toBe(res.json.notifications_version); // notifications_from -4 → 0
    const numeric = await http(server.url + '/poll', {
      method: 'POST',
      headers: { 'X-CSRF-Token': token },
      body: { context: firstChat().id, log_from: '1', timezone: 5 },
    });
    expect(numeric.json.logs.map((l: { no: number }) => l.no)[0]).toBe(1);
    const garbage = await http(server.url + '/poll', {
      method: 'POST',
      headers: { 'X-CSRF-Token': token },
      body: 'not json',
    });
    expect(garbage.status).toBe(200);
  });

  it('flags a vanished context with deselect_chat', async () => {
    const res = await http(server.url + '/poll', {
      method: 'POST',
      headers: { 'X-CSRF-Token': token },
      body: { context: 'gone', log_from: 0, notifications_from: 0, timezone: 'UTC' },
    });
    expect(res.json).toMatchObject({ deselect_chat: true, context: '', logs: [] });
  });
});

describe('static files', () => {
  let site: ReferenceServer;
  beforeAll(async () => {
    // The site lives one level down so a traversal would find secret.txt next to it.
    const parent = mkdtempSync(join(tmpdir(), 'syncwire-static-'));
    writeFileSync(join(parent, 'secret.txt'), 'secret');
    const root = join(parent, 'site');
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>demo</title>');
    mkdirSync(join(root, 'js'));
    writeFileSync(join(root, 'js', 'app.js'), 'console.log(1)');
    site = await h.start({ staticRoot: root });
  });

  it('serves index.html, nested files and the vendored client with content types', async () => {
    const index = await http(site.url + '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toContain('text/html');
    expect(index.text).toContain('<title>demo</title>');
    const js = await http(site.url + '/js/app.js');
    expect(js.headers['content-type']).toContain('text/javascript');
    const vendor = await http(site.url + '/vendor/socket.io.min.js');
    expect(vendor.status).toBe(200);
    expect(vendor.headers['content-type']).toContain('text/javascript');
  });

  it('revalidates with an ETag: unchanged files answer 304 with no body, edited ones 200', async () => {
    const first = await http(site.url + '/js/app.js');
    const etag = first.headers.etag as string;
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(etag).toMatch(/^W\/"/);
    const again = await http(site.url + '/js/app.js', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    const other = await http(site.url + '/js/app.js', { headers: { 'If-None-Match': 'W/"0-0"' } });
    expect(other.status).toBe(200);
    expect(other.text).toBe('console.log(1)');
  });

  it('refuses directory traversal and unknown files', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/js/../../secret.txt',
      '/..%2fsecret.txt',
      '/missing.txt',
      '/dist/../package.json',
      '/dist/%2e%2e/package.json',
    ]) {
      expect((await http(site.url + path)).status).toBe(404);
    }
  });

  it('does not serve files without staticRoot, nor the fault API without faultApi', async () => {
    expect((await http(server.url + '/')).status).toBe(404);
    expect((await http(server.url + '/__faults')).status).toBe(404);
  });
});

describe('fault and world API', () => {
  let demo: ReferenceServer;
  beforeAll(async () => {
    demo = await h.start({ faultApi: true });
  });

  it('reads and sets faults, same-origin only', async () => {
    const state = await http(demo.url + '/__faults');
    expect(state.json).toMatchObject({
      ok: true,
      faults: { dropPushes: 0, stallHandshakes: false, runtimeId: demo.runtime.id },
    });
    const own = `http://${new URL(demo.url).host}`;
    const set = await http(demo.url + '/__faults/stallHandshakes', {
      method: 'POST',
      headers: { Origin: own },
      body: { value: true },
    });
    expect(set.json).toMatchObject({ ok: true, faults: { stallHandshakes: true } });
    const evil = await http(demo.url + '/__faults/reset', {
      method: 'POST',
      headers: { Origin: 'http://evil.example' },
      body: {},
    });
    expect(evil.status).toBe(403);
    expect(demo.faults.state().stallHandshakes).toBe(true);
    await http(demo.url + '/__faults/reset', { method: 'POST', body: {} });
    expect(demo.faults.state().stallHandshakes).toBe(false);
    expect(
      (await http(demo.url + '/__faults/constructor', { method: 'POST', body: {} })).status,
    ).toBe(404);
  });

  it('passes the body as the argument when it has no value key (restart downtime)', async () => {
    const before = demo.runtime.id;
    await http(demo.url + '/__faults/restart', { method: 'POST', body: { downtimeMs: 40 } });
    expect(demo.runtime.id).not.toBe(before);
    expect((await http(demo.url + '/csrf_token')).status).toBe(503);
    demo.faults.reset(); // ends the downtime early
    expect((await http(demo.url + '/csrf_token')).status).toBe(200);
  });

  it('drives the world', async () => {
    const added = await http(demo.url + '/__world/addChat', {
      method: 'POST',
      body: { name: 'From HTTP' },
    });
    const id = added.json.result.id as string;
    const appended = await http(demo.url + '/__world/appendLog', {
      method: 'POST',
      body: { ctxId: id, heading: 'H', content: 'C' },
    });
    expect(appended.json).toEqual({ ok: true, result: { no: 0 } });
    expect(demo.world.chats.get(id)?.log.items[0]).toMatchObject({ heading: 'H', content: 'C' });
    const bad = await http(demo.url + '/__world/resetChat', {
      method: 'POST',
      body: { ctxId: 'nope' },
    });
    expect(bad.status).toBe(400);
    const list = await http(demo.url + '/__world');
    expect(list.json.snapshot.contexts[0].name).toBe('From HTTP');
  });
});
