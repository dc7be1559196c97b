// SPDX-License-Identifier: GPL-3.0-or-later
// Loaded into the conformance runner with NODE_OPTIONS=--require: the runner has no option for
// request headers, and the gateway keeps its bearer auth on during the tier. Adds
// "Authorization: Bearer <token>" to requests for CONFORMANCE_AUTH_ORIGIN only (the gateway);
// the direct run's requests to the backend go out unchanged.
//   CONFORMANCE_AUTH_ORIGIN   e.g. http://127.0.0.1:18811
//   CONFORMANCE_AUTH_TOKEN    the token (read from CONFORMANCE_AUTH_TOKEN_FILE when set)
//   CONFORMANCE_SUITE_DIR     the installed @modelcontextprotocol/conformance package
'use strict';
const fs = require('node:fs');

const origin = process.env.CONFORMANCE_AUTH_ORIGIN;
const tokenFile = process.env.CONFORMANCE_AUTH_TOKEN_FILE;
const token = tokenFile ? fs.readFileSync(tokenFile, 'utf8').trim() : process.env.CONFORMANCE_AUTH_TOKEN;
if (!origin || !token) {
  throw new Error('auth-preload: set CONFORMANCE_AUTH_ORIGIN and CONFORMANCE_AUTH_TOKEN(_FILE)');
}
const bearer = `Bearer ${token}`;

function forGateway(url) {
  try {
    return new URL(String(url)).origin === origin;
  } catch {
    return false;
  }
}

// The MCP SDK client and the SSE scenarios call the global fetch.
const baseFetch = globalThis.fetch;
globalThis.fetch = function fetchWithToken(input, init) {
  const url = input instanceof Request ? input.url : input;
  if (!forGateway(url)) return baseFetch(input, init);
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has('authorization')) headers.set('authorization', bearer);
  return baseFetch(input, { ...init, headers });
};

// The dns-rebinding scenario sends its forged Host/Origin through undici.request instead: patch
// the runner's own copy before its ES module imports it (undici is CommonJS, so the import
// reads module.exports after this file ran). With the token present, a 4xx there can only come
// from the Host/Origin check, not from auth.
const suiteDir = process.env.CONFORMANCE_SUITE_DIR;
if (suiteDir) {
  const undici = require(require.resolve('undici', { paths: [suiteDir] }));
  const baseRequest = undici.request;
  undici.request = function requestWithToken(url, options = {}) {
    if (!forGateway(url)) return baseRequest.call(this, url, options);
    let headers = options.headers ?? {};
    if (Array.isArray(headers)) {
      headers = [...headers, 'authorization', bearer];
    } else if (!Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
      headers = { ...headers, authorization: bearer };
    }
    return baseRequest.call(this, url, { ...options, headers });
  };
}
