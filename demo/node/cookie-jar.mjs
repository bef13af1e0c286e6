// What a browser does for a page and a Node process must do itself: keep the cookies the
// server sets (Agent Zero's session cookie, from the token route), set the CSRF cookie the
// page's JavaScript would set (csrf_token_<runtime id>), and send them, with an Origin header,
// on every request, the Socket.IO handshake included.

/**
 * A cookie jar for one server. `fetch` goes to syncwire's `fetch` options (the client's,
 * for its token, and the store's, for /poll); `headers` to `socketOptions.extraHeaders`
 * (Socket.IO reads it again on every connect attempt, so cookies set later still go out).
 * @param {string} origin the server, e.g. http://127.0.0.1:8787
 * @param {typeof fetch} [baseFetch] the fetch doing the requests; default: Node's own
 */
export function cookieJar(origin, baseFetch = fetch) {
  const cookies = new Map();
  const headers = { origin }; // Agent Zero compares Origin with Host
  const cookieHeader = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  /** @type {typeof fetch} */
  const jarFetch = async (input, init = {}) => {
    const res = await baseFetch(input, {
      ...init,
      headers: { ...init.headers, cookie: cookieHeader(), origin },
    });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0];
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    // A page's JavaScript sets csrf_token_<runtime id> from the token answer; here, the jar.
    if (res.ok && new URL(String(input)).pathname.endsWith('csrf_token')) {
      const body = await res.clone().json();
      if (body.token && body.runtime_id)
        cookies.set(`csrf_token_${body.runtime_id}`, encodeURIComponent(body.token));
    }
    headers.cookie = cookieHeader();
    return res;
  };
  return { fetch: jarFetch, headers };
}
