import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { apiKeyAuth, basicAuth, bearerAuth, oauth2ClientCredentials, oauth2RefreshToken, type AuthProvider } from '../../src/http/auth.js';
import { createHttpClient, type HttpClient, type HttpClientOptions } from '../../src/http/client.js';
import { HttpAuthError, HttpStatusError } from '../../src/http/errors.js';
import { persistToConfigFile, updateJsonConfigKey } from '../../src/http/persist.js';
import { sendJson, startServer, type SeenRequest, type TestServer } from './server.js';

let server: TestServer | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

/** The API accepts exactly one header value and answers 401 otherwise. */
async function checkHeader(auth: AuthProvider, header: string): Promise<SeenRequest> {
  server = await startServer((req, res) => sendJson(res, req.headers[header] === undefined ? 401 : 200, {}));
  client = createHttpClient({ baseUrl: server.url, auth });
  await client.request({ path: '/v1/me' });
  const seen = server.seen[0];
  if (!seen) throw new Error('no request seen');
  return seen;
}

describe('static credentials', () => {
  it('puts an API key in a header', async () => {
    const seen = await checkHeader(apiKeyAuth({ in: 'header', name: 'X-API-Key', value: 'k-123' }), 'x-api-key');
    expect(seen.headers['x-api-key']).toBe('k-123');
  });

  it('puts an API key in a header with a prefix', async () => {
    const seen = await checkHeader(apiKeyAuth({ in: 'header', name: 'Authorization', value: 'k-123', prefix: 'Token' }), 'authorization');
    expect(seen.headers['authorization']).toBe('Token k-123');
  });

  it('puts an API key in the query, after the request query', async () => {
    server = await startServer((_q, res) => sendJson(res, 200, {}));
    client = createHttpClient({ baseUrl: server.url, auth: apiKeyAuth({ in: 'query', name: 'api_key', value: 'k 1/2' }) });
    const res = await client.request({ path: '/v1/me', query: { fields: 'id' } });
    expect(server.seen[0]?.url).toBe('/v1/me?fields=id&api_key=k+1%2F2');
    // The response's URL is the one the connector asked for, without the key.
    expect(res.url).toBe(`${server.url}/v1/me?fields=id`);
  });

  it('sends a bearer token', async () => {
    const seen = await checkHeader(bearerAuth('tok-1'), 'authorization');
    expect(seen.headers['authorization']).toBe('Bearer tok-1');
  });

  it('sends basic credentials', async () => {
    const seen = await checkHeader(basicAuth('user', 'pa:ss'), 'authorization');
    expect(seen.headers['authorization']).toBe('Basic dXNlcjpwYTpzcw==');
  });

  it('does not retry a 401 with static credentials', async () => {
    server = await startServer((_q, res) => sendJson(res, 401, { error: 'bad key k-123' }));
    client = createHttpClient({ baseUrl: server.url, auth: bearerAuth('k-123') });
    const err = (await client.request({ path: '/v1/me' }).catch((e: unknown) => e)) as HttpStatusError;
    expect(err.message).toBe('GET /v1/me answered 401 Unauthorized: {"error":"bad key REDACTED"}');
    expect(server.seen).toHaveLength(1);
  });
});

/**
 * A fake OAuth provider: `/oauth/token` mints `at-N` tokens that live `lifetimeS` seconds on
 * the injected clock; `/api/*` answers 401 to unknown or expired tokens and 200 otherwise.
 */
interface OAuthServer {
  tokenCalls: SeenRequest[];
  unauthorized: number;
  apiTokens: string[];
  events: string[];
}

function oauthHandler(
  state: OAuthServer,
  clock: { now: number },
  options: { lifetimeS?: number; rotate?: boolean; tokenError?: (res: ServerResponse) => void } = {},
) {
  const expiry = new Map<string, number>();
  let minted = 0;
  return (req: { url?: string | undefined; headers: Record<string, string | string[] | undefined> }, res: ServerResponse, seen: SeenRequest): void => {
    if (req.url === '/oauth/token') {
      state.tokenCalls.push(seen);
      const form = new URLSearchParams(seen.body);
      state.events.push(`token:${form.get('refresh_token') ?? form.get('grant_type') ?? ''}`);
      if (options.tokenError) return options.tokenError(res);
      minted++;
      const token = `at-${minted}`;
      const lifetime = options.lifetimeS ?? 3600;
      expiry.set(token, clock.now + lifetime * 1000);
      const body: Record<string, unknown> = { access_token: token, token_type: 'bearer', expires_in: lifetime };
      if (options.rotate) body['refresh_token'] = `rt-${minted + 1}`;
      return sendJson(res, 200, body);
    }
    const header = String(req.headers['authorization'] ?? '');
    state.events.push(`api:${header}`);
    const token = header.replace(/^Bearer /, '');
    const until = expiry.get(token);
    if (until === undefined || clock.now >= until) {
      state.unauthorized++;
      return sendJson(res, 401, { error: 'invalid_token' });
    }
    state.apiTokens.push(token);
    return sendJson(res, 200, { ok: true, token });
  };
}

function newState(): OAuthServer {
  return { tokenCalls: [], unauthorized: 0, apiTokens: [], events: [] };
}

async function oauthSetup(
  auth: (tokenUrl: string) => AuthProvider,
  clock: { now: number },
  options: Parameters<typeof oauthHandler>[2] = {},
  clientOptions: HttpClientOptions = {},
): Promise<{ state: OAuthServer; c: HttpClient; s: TestServer }> {
  const state = newState();
  server = await startServer(oauthHandler(state, clock, options));
  client = createHttpClient({ baseUrl: server.url, auth: auth(`${server.url}/oauth/token`), now: () => clock.now, ...clientOptions });
  return { state, c: client, s: server };
}

describe('OAuth2 client credentials', () => {
  it('fetches one token for concurrent requests and reuses it until shortly before expiry', async () => {
    const clock = { now: 1_000_000 };
    const { state, c } = await oauthSetup(
      (tokenUrl) => oauth2ClientCredentials({ tokenUrl, clientId: 'cid', clientSecret: 'csecret', scope: 'read' }),
      clock,
    );
    await Promise.all(Array.from({ length: 5 }, () => c.request({ path: '/api/items' })));
    expect(state.tokenCalls).toHaveLength(1);
    expect(state.tokenCalls[0]?.body).toBe('grant_type=client_credentials&scope=read&client_id=cid&client_secret=csecret');
    expect(state.tokenCalls[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');

    clock.now += 3_500_000; // 100 s before expiry: still outside the 60 s margin
    await c.request({ path: '/api/items' });
    expect(state.tokenCalls).toHaveLength(1);

    clock.now += 50_000; // 50 s before expiry: renew
    await c.request({ path: '/api/items' });
    expect(state.tokenCalls).toHaveLength(2);
    expect(state.apiTokens).toEqual(['at-1', 'at-1', 'at-1', 'at-1', 'at-1', 'at-1', 'at-2']);
    expect(state.unauthorized).toBe(0);
  });

  it('can authenticate to the token endpoint with HTTP Basic', async () => {
    const clock = { now: 0 };
    const { state, c } = await oauthSetup(
      (tokenUrl) => oauth2ClientCredentials({ tokenUrl, clientId: 'cid', clientSecret: 'csecret+1', clientAuth: 'basic' }),
      clock,
    );
    await c.request({ path: '/api/items' });
    expect(state.tokenCalls[0]?.headers['authorization']).toBe('Basic Y2lkOmNzZWNyZXQlMkIx');
    expect(state.tokenCalls[0]?.body).toBe('grant_type=client_credentials');
  });
});

describe('OAuth2 refresh token', () => {
  it('renews 2-second tokens before they expire during a long run', async () => {
    const clock = { now: 5_000_000 };
    const { state, c } = await oauthSetup(
      (tokenUrl) => oauth2RefreshToken({ tokenUrl, clientId: 'cid', clientSecret: 'cs', refreshToken: 'rt-1' }),
      clock,
      { lifetimeS: 2 },
    );
    for (let i = 0; i < 10; i++) {
      await c.request({ path: `/api/items/${i}` });
      clock.now += 700;
    }
    // Margin is half the lifetime (1 s): renewals at 0, 1.4, 2.8, 4.2 and 5.6 s.
    expect(state.tokenCalls).toHaveLength(5);
    expect(state.unauthorized).toBe(0);
    expect(state.apiTokens).toEqual(['at-1', 'at-1', 'at-2', 'at-2', 'at-3', 'at-3', 'at-4', 'at-4', 'at-5', 'at-5']);
  });

  it('renews a token that expired during a long rate-limit wait before retrying', async () => {
    const clock = { now: 0 };
    const state = newState();
    const oauth = oauthHandler(state, clock, { lifetimeS: 2 });
    let limited = false;
    server = await startServer((req, res, seen) => {
      if (req.url === '/api/items' && !limited) {
        limited = true;
        return sendJson(res, 429, {}, { 'retry-after': '5' });
      }
      return oauth(req, res, seen);
    });
    const waits: number[] = [];
    client = createHttpClient({
      baseUrl: server.url,
      auth: oauth2RefreshToken({ tokenUrl: `${server.url}/oauth/token`, clientId: 'cid', refreshToken: 'rt-1' }),
      now: () => clock.now,
      sleep: (ms) => {
        waits.push(ms);
        clock.now += ms;
        return Promise.resolve();
      },
    });
    const res = await client.request({ path: '/api/items' });
    expect(res.json()).toEqual({ ok: true, token: 'at-2' });
    expect(waits).toEqual([5000]);
    expect(state.tokenCalls).toHaveLength(2);
    expect(state.unauthorized).toBe(0);
  });

  it('answers a 401 with exactly one refresh and one retry', async () => {
    const clock = { now: 0 };
    const { state, c, s } = await oauthSetup(
      (tokenUrl) => oauth2RefreshToken({ tokenUrl, clientId: 'cid', refreshToken: 'rt-1', accessToken: 'revoked', expiresAt: 10_000_000 }),
      clock,
    );
    const res = await c.request({ path: '/api/items' });
    expect(res.json()).toEqual({ ok: true, token: 'at-1' });
    expect(state.tokenCalls).toHaveLength(1);
    expect(state.unauthorized).toBe(1);
    expect(s.seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /api/items', 'POST /oauth/token', 'GET /api/items']);
  });

  it('shares one refresh among concurrent requests refused with 401', async () => {
    const clock = { now: 0 };
    const { state, c } = await oauthSetup(
      (tokenUrl) => oauth2RefreshToken({ tokenUrl, clientId: 'cid', refreshToken: 'rt-1', accessToken: 'revoked', expiresAt: 10_000_000 }),
      clock,
    );
    await Promise.all(Array.from({ length: 4 }, () => c.request({ path: '/api/items' })));
    expect(state.tokenCalls).toHaveLength(1);
    expect(state.unauthorized).toBe(4);
    expect(state.apiTokens).toEqual(['at-1', 'at-1', 'at-1', 'at-1']);
  });

  it('fails after one refresh when the API keeps refusing', async () => {
    const state = newState();
    server = await startServer((req, res, seen) => {
      if (req.url === '/oauth/token') {
        state.tokenCalls.push(seen);
        return sendJson(res, 200, { access_token: 'at-x', expires_in: 3600 });
      }
      return sendJson(res, 401, { error: 'account suspended' });
    });
    client = createHttpClient({
      baseUrl: server.url,
      auth: oauth2RefreshToken({ tokenUrl: `${server.url}/oauth/token`, clientId: 'cid', refreshToken: 'rt-1' }),
    });
    const err = (await client.request({ path: '/api/items' }).catch((e: unknown) => e)) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.message).toBe('GET /api/items answered 401 Unauthorized: {"error":"account suspended"}');
    expect(state.tokenCalls).toHaveLength(2);
    expect(server.seen.map((r) => r.url)).toEqual(['/oauth/token', '/api/items', '/oauth/token', '/api/items']);
  });

  it('persists a rotated refresh token before the new access token is used', async () => {
    const clock = { now: 0 };
    const state = newState();
    const persisted: string[] = [];
    const persist = async (token: string): Promise<void> => {
      await new Promise((r) => setTimeout(r, 30));
      persisted.push(token);
      state.events.push(`persist:${token}`);
    };
    server = await startServer(oauthHandler(state, clock, { rotate: true, lifetimeS: 100 }));
    client = createHttpClient({
      baseUrl: server.url,
      auth: oauth2RefreshToken({ tokenUrl: `${server.url}/oauth/token`, clientId: 'cid', refreshToken: 'rt-1', persist }),
      now: () => clock.now,
    });
    await client.request({ path: '/api/a' });
    clock.now += 99_000;
    await client.request({ path: '/api/b' });
    expect(state.events).toEqual(['token:rt-1', 'persist:rt-2', 'api:Bearer at-1', 'token:rt-2', 'persist:rt-3', 'api:Bearer at-2']);
    expect(persisted).toEqual(['rt-2', 'rt-3']);
  });

  it('lets no concurrent request use the new access token while the rotated refresh token is being saved', async () => {
    const clock = { now: 0 };
    const state = newState();
    const others: Array<Promise<unknown>> = [];
    server = await startServer(oauthHandler(state, clock, { rotate: true }));
    const url = server.url;
    const persist = async (token: string): Promise<void> => {
      // Another stream asks for data while the token is being written down.
      others.push(c.request({ path: '/api/other' }));
      await new Promise((r) => setTimeout(r, 50));
      state.events.push(`persist:${token}`);
    };
    const c = createHttpClient({
      baseUrl: url,
      auth: oauth2RefreshToken({ tokenUrl: `${url}/oauth/token`, clientId: 'cid', refreshToken: 'rt-1', persist }),
      now: () => clock.now,
    });
    client = c;
    await c.request({ path: '/api/a' });
    await Promise.all(others);
    expect(state.events).toEqual(['token:rt-1', 'persist:rt-2', 'api:Bearer at-1', 'api:Bearer at-1']);
    expect(state.tokenCalls).toHaveLength(1);
  });

  it('writes the rotated token into the config file atomically, keeping the other keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-http-config-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, '{"client_id":"cid","refresh_token":"rt-1","account":12345678901234567890,"streams":["a","b"],"opts":{}}', { mode: 0o600 });
    const inodeBefore = statSync(path).ino;
    const clock = { now: 0 };
    const { state, c } = await oauthSetup(
      (tokenUrl) => oauth2RefreshToken({ tokenUrl, clientId: 'cid', refreshToken: 'rt-1', persist: persistToConfigFile(path, 'refresh_token') }),
      clock,
      { rotate: true },
    );
    await c.request({ path: '/api/items' });
    expect(state.apiTokens).toEqual(['at-1']);
    expect(readFileSync(path, 'utf8')).toBe(
      '{\n  "client_id": "cid",\n  "refresh_token": "rt-2",\n  "account": 12345678901234567890,\n  "streams": [\n    "a",\n    "b"\n  ],\n  "opts": {}\n}\n',
    );
    const after = statSync(path);
    expect(after.ino).not.toBe(inodeBefore); // replaced by rename, never rewritten in place
    expect(after.mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['config.json']);
  });

  it('adds a missing key and refuses a file that is not an object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-http-config-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, '{"a":1}');
    updateJsonConfigKey(path, 'refresh_token', 'rt-9');
    expect(readFileSync(path, 'utf8')).toBe('{\n  "a": 1,\n  "refresh_token": "rt-9"\n}\n');
    writeFileSync(path, '[1]');
    expect(() => updateJsonConfigKey(path, 'refresh_token', 'x')).toThrow(`${path} does not hold a JSON object`);
  });

  it('fails without using the new token when persisting it fails', async () => {
    const clock = { now: 0 };
    const { state, c } = await oauthSetup(
      (tokenUrl) =>
        oauth2RefreshToken({
          tokenUrl,
          clientId: 'cid',
          refreshToken: 'rt-1',
          persist: (token) => Promise.reject(new Error(`disk full while writing ${token}`)),
        }),
      clock,
      { rotate: true },
    );
    const err = (await c.request({ path: '/api/items' }).catch((e: unknown) => e)) as HttpAuthError;
    expect(err).toBeInstanceOf(HttpAuthError);
    expect(err.message).toBe('POST /oauth/token rotated the refresh token, which could not be saved: disk full while writing REDACTED');
    expect(state.apiTokens).toEqual([]);
    expect(state.events).toEqual(['token:rt-1']);
  });

  it('keeps the refresh token and client secret out of a token endpoint error', async () => {
    const clock = { now: 0 };
    const { state, c } = await oauthSetup(
      (tokenUrl) => oauth2RefreshToken({ tokenUrl, clientId: 'cid', clientSecret: 'cs-SECRET-9', refreshToken: 'rt-SECRET-1' }),
      clock,
      { tokenError: (res) => sendJson(res, 400, { error: 'invalid_grant', error_description: 'rt-SECRET-1 revoked for client cs-SECRET-9' }) },
    );
    const err = (await c.request({ path: '/api/items' }).catch((e: unknown) => e)) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.message).toBe('POST /oauth/token answered 400 Bad Request: {"error":"invalid_grant","error_description":"REDACTED revoked for client REDACTED"}');
    expect(state.tokenCalls).toHaveLength(1);
  });

  it('rejects a token answer without an access token', async () => {
    server = await startServer((_q, res) => sendJson(res, 200, { token_type: 'bearer' }));
    client = createHttpClient({
      baseUrl: server.url,
      auth: oauth2ClientCredentials({ tokenUrl: `${server.url}/oauth/token`, clientId: 'c', clientSecret: 's' }),
    });
    const err = (await client.request({ path: '/api/items' }).catch((e: unknown) => e)) as HttpAuthError;
    expect(err).toBeInstanceOf(HttpAuthError);
    expect(err.message).toBe('POST /oauth/token answered without an access_token');
  });
});

describe('OAuth2 token responses and tokens obtained before the first request', () => {
  it('hands each token response to onToken, and authorize obtains the token the next requests reuse', async () => {
    const responses: Array<Record<string, unknown>> = [];
    let minted = 0;
    let valid = '';
    // Salesforce's token answer says where the data calls go, and has no expires_in: a token
    // lives until the API refuses it.
    server = await startServer((req, res) => {
      if (req.url === '/oauth/token') {
        valid = `at-${++minted}`;
        return sendJson(res, 200, { access_token: valid, instance_url: `https://na${minted}.example.test`, token_type: 'Bearer' });
      }
      return sendJson(res, req.headers['authorization'] === `Bearer ${valid}` ? 200 : 401, {});
    });
    const provider = oauth2RefreshToken({
      tokenUrl: `${server.url}/oauth/token`,
      clientId: 'cid',
      refreshToken: 'rt-1',
      onToken: (body) => responses.push({ ...body }),
    });
    // A client without credentials lends the provider its retries, budget and cassette.
    const bare = createHttpClient({ baseUrl: server.url });
    try {
      await provider.authorize?.({ send: (request) => bare.request(request), now: () => Date.now() });
    } finally {
      await bare.close();
    }
    expect(responses).toEqual([{ access_token: 'at-1', instance_url: 'https://na1.example.test', token_type: 'Bearer' }]);

    client = createHttpClient({ baseUrl: server.url, auth: provider });
    await client.request({ path: '/api/a' });
    valid = 'expired'; // the session ends: a 401, one renewal, its answer told to onToken too
    await client.request({ path: '/api/b' });
    expect(responses.map((r) => r['instance_url'])).toEqual(['https://na1.example.test', 'https://na2.example.test']);
    expect(server.seen.map((r) => `${r.method} ${r.url} ${r.headers['authorization'] ?? ''}`)).toEqual([
      'POST /oauth/token ',
      'GET /api/a Bearer at-1',
      'GET /api/b Bearer at-1',
      'POST /oauth/token ',
      'GET /api/b Bearer at-2',
    ]);
  });
});
