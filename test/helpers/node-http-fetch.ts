import { request } from 'node:http';

/**
 * A fetch over node:http, for the cookie jar in tests that run under jsdom or happy-dom:
 * happy-dom's fetch hides Set-Cookie from scripts, as a browser does, and socket.io-client
 * in Node sends no cookie of either DOM's jar. Only what syncwire and the jar use is here.
 */
export const nodeHttpFetch = ((input: string | URL, init: RequestInit = {}) =>
  new Promise((resolve, reject) => {
    const url = new URL(String(input));
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers as Record<string, string>,
        signal: init.signal ?? undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          const setCookie = res.headers['set-cookie'] ?? [];
          const response = {
            ok: status >= 200 && status < 300,
            status,
            headers: {
              getSetCookie: () => setCookie,
              get: (name: string) =>
                (res.headers[name.toLowerCase()] as string | undefined) ?? null,
            },
            json: () => Promise.resolve().then(() => JSON.parse(text) as unknown),
            clone: () => response,
          };
          resolve(response as unknown as Response);
        });
      },
    );
    req.on('error', reject);
    if (typeof init.body === 'string') req.write(init.body);
    req.end();
  })) as typeof fetch;
