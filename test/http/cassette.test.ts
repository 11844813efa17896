import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { apiKeyAuth, oauth2RefreshToken } from '../../src/http/auth.js';
import { createRecorder, createReplayer } from '../../src/http/cassette.js';
import { createHttpClient, type HttpClient, type HttpClientOptions } from '../../src/http/client.js';
import { ReplayMissError } from '../../src/http/errors.js';
import type { HttpResponse } from '../../src/http/types.js';
import { recordingSleep, sendJson, startServer, type TestServer } from './server.js';

let server: TestServer | undefined;
const clients: HttpClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.close();
  server = undefined;
});

function newClient(options: HttpClientOptions): HttpClient {
  const c = createHttpClient({ sleep: recordingSleep().sleep, random: () => 0.5, ...options });
  clients.push(c);
  return c;
}

interface Outcome {
  status?: number;
  body?: string;
  contentType?: string | undefined;
  error?: string;
}

async function outcome(p: Promise<HttpResponse>): Promise<Outcome> {
  try {
    const res = await p;
    return { status: res.status, body: res.body.toString('base64'), contentType: res.headers['content-type'] };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Every file in a cassette folder, as text. */
function cassetteText(dir: string): string {
  return readdirSync(dir)
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
}

/** A small API: pages, a search, a counter, binary and gzip bodies, a 404, a flaky endpoint. */
async function startApi(): Promise<TestServer> {
  let counter = 0;
  let flaky = 0;
  return startServer((req, res, seen) => {
    const path = (req.url ?? '').split('?')[0];
    switch (path) {
      case '/v1/items':
        return sendJson(res, 200, { items: [1, 2], next: 'page_token_2' }, { 'set-cookie': 'session=abc; HttpOnly', 'x-request-id': 'r1' });
      case '/v1/search':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(`{"echo":${seen.body},"big":123456789012345678901234}`);
      case '/v1/counter':
        return sendJson(res, 200, { n: ++counter });
      case '/v1/binary':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return res.end(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
      case '/v1/gzip': {
        const body = gzipSync(JSON.stringify({ zipped: true }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
        return res.end(body);
      }
      case '/v1/flaky':
        return flaky++ === 0 ? sendJson(res, 503, {}) : sendJson(res, 200, { recovered: true });
      default:
        return sendJson(res, 404, { error: 'not found' });
    }
  });
}

async function script(c: HttpClient): Promise<Outcome[]> {
  return [
    await outcome(c.request({ path: '/v1/items', query: { page: 1 } })),
    await outcome(c.request({ method: 'POST', path: '/v1/search', body: { q: 'shoes', note: 'body-SECRET-2' } })),
    await outcome(c.request({ method: 'POST', path: '/v1/search', body: { q: 'boots' } })),
    await outcome(c.request({ path: '/v1/counter' })),
    await outcome(c.request({ path: '/v1/counter' })),
    await outcome(c.request({ path: '/v1/binary' })),
    await outcome(c.request({ path: '/v1/gzip' })),
    await outcome(c.request({ path: '/v1/missing' })),
    await outcome(c.request({ path: '/v1/flaky' })),
  ];
}

describe('record and replay', () => {
  it('replays recorded answers with the server gone, in order for repeated requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-cassette-'));
    server = await startApi();
    const url = server.url;
    const auth = (): ReturnType<typeof apiKeyAuth> => apiKeyAuth({ in: 'query', name: 'api_key', value: 'key-SECRET-1' });
    const recorded = await script(newClient({ baseUrl: url, auth: auth(), secrets: ['body-SECRET-2'], recorder: createRecorder(dir) }));
    expect(recorded[3]).toEqual({ status: 200, body: Buffer.from('{"n":1}').toString('base64'), contentType: 'application/json' });
    expect(recorded[4]).toEqual({ status: 200, body: Buffer.from('{"n":2}').toString('base64'), contentType: 'application/json' });
    expect(recorded[7]).toEqual({ error: 'GET /v1/missing answered 404 Not Found: {"error":"not found"}' });
    expect(server.seen).toHaveLength(10); // 9 requests, one retried

    await server.close();
    server = undefined;

    const replayed = await script(newClient({ baseUrl: url, auth: auth(), secrets: ['body-SECRET-2'], replayer: createReplayer(dir) }));
    // The one difference is the redacted body of the first search, which echoed a secret.
    const expected = recorded.map((o, i) =>
      i === 1 ? { ...o, body: Buffer.from('{"echo":{"q":"shoes","note":"REDACTED"},"big":123456789012345678901234}').toString('base64') } : o,
    );
    expect(replayed).toEqual(expected);

    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(10);
    for (const f of files) expect(f).toMatch(/^\d{4}-(GET|POST)-[0-9a-f]{8}\.json$/);
    expect(files[0]?.startsWith('0001-GET-')).toBe(true);
    expect(files[1]?.startsWith('0002-POST-')).toBe(true);
    const text = cassetteText(dir);
    expect(text).not.toContain('SECRET');
    expect(text).toContain('api_key=REDACTED');
    const first = JSON.parse(readFileSync(join(dir, files[0] ?? ''), 'utf8')) as { response: { headers: Record<string, string> } };
    expect(first.response.headers['set-cookie']).toBe('REDACTED');
    expect(first.response.headers['x-request-id']).toBe('r1');
    // Redaction changes lengths, and connection headers describe the recording session.
    expect(first.response.headers['content-length']).toBeUndefined();
    expect(first.response.headers['connection']).toBeUndefined();
  });

  it('names the request and the recordings for its path on a miss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-cassette-'));
    server = await startApi();
    const url = server.url;
    const recording = newClient({ baseUrl: url, recorder: createRecorder(dir) });
    await recording.request({ path: '/v1/items', query: { page: 1 } });
    await recording.request({ path: '/v1/counter' });
    await server.close();
    server = undefined;

    const c = newClient({ baseUrl: url, replayer: createReplayer(dir) });
    const miss = (await c.request({ path: '/v1/items', query: { page: 9 } }).catch((e: unknown) => e)) as ReplayMissError;
    expect(miss).toBeInstanceOf(ReplayMissError);
    const [itemsFile] = readdirSync(dir).sort();
    expect(miss.message).toBe(
      `replay: no recording for GET ${url}/v1/items?page=9 in ${dir}; recordings for /v1/items:\n  ${itemsFile ?? ''}: GET ${url}/v1/items?page=1`,
    );

    const none = (await c.request({ path: '/v2/other' }).catch((e: unknown) => e)) as ReplayMissError;
    expect(none.message).toBe(`replay: no recording for GET ${url}/v2/other in ${dir}; no recordings for /v2/other (2 recordings in the folder)`);

    await c.request({ path: '/v1/counter' });
    const again = (await c.request({ path: '/v1/counter' }).catch((e: unknown) => e)) as ReplayMissError;
    expect(again.message).toBe(`replay: GET ${url}/v1/counter was requested 2 times but recorded only 1 in ${dir}`);
  });

  it('matches requests with a body by the hash of the redacted body', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-cassette-'));
    server = await startApi();
    const url = server.url;
    await newClient({ baseUrl: url, recorder: createRecorder(dir) }).request({ method: 'POST', path: '/v1/search', body: { q: 'a' } });
    await server.close();
    server = undefined;
    const c = newClient({ baseUrl: url, replayer: createReplayer(dir) });
    const miss = (await c.request({ method: 'POST', path: '/v1/search', body: { q: 'b' } }).catch((e: unknown) => e)) as ReplayMissError;
    expect(miss).toBeInstanceOf(ReplayMissError);
    expect(miss.message).toMatch(/^replay: no recording for POST \S+\/v1\/search \(body sha256 [0-9a-f]{12}\) in .*; recordings for \/v1\/search:\n {2}0001-POST-[0-9a-f]{8}\.json: POST \S+\/v1\/search \(body sha256 [0-9a-f]{12}\)$/);
    const hit = await c.request({ method: 'POST', path: '/v1/search', body: { q: 'a' } });
    expect(hit.json()).toEqual({ echo: { q: 'a' }, big: expect.anything() as unknown });
  });

  it('keeps OAuth client secret, refresh and access tokens out of recordings, and replays the token exchange', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-cassette-'));
    let minted = 0;
    server = await startServer((req, res) => {
      if (req.url === '/oauth/token') {
        minted++;
        return sendJson(res, 200, { access_token: `at-SECRET-${minted}`, refresh_token: `rt-SECRET-${minted + 1}`, expires_in: 3600 });
      }
      return sendJson(res, 200, { you: String(req.headers['authorization']), items: [1] });
    });
    const url = server.url;
    const auth = (persisted: string[]): ReturnType<typeof oauth2RefreshToken> =>
      oauth2RefreshToken({
        tokenUrl: `${url}/oauth/token`,
        clientId: 'cid',
        clientSecret: 'cs-SECRET',
        refreshToken: 'rt-SECRET-1',
        persist: (t) => {
          persisted.push(t);
          return Promise.resolve();
        },
      });
    const persistedLive: string[] = [];
    const live = newClient({ baseUrl: url, auth: auth(persistedLive), recorder: createRecorder(dir) });
    const liveBody = (await live.request({ path: '/api/items' })).json();
    expect(liveBody).toEqual({ you: 'Bearer at-SECRET-1', items: [1] });
    expect(persistedLive).toEqual(['rt-SECRET-2']);
    expect(cassetteText(dir)).not.toContain('SECRET');
    await server.close();
    server = undefined;

    const persistedReplay: string[] = [];
    const replay = newClient({ baseUrl: url, auth: auth(persistedReplay), replayer: createReplayer(dir) });
    expect((await replay.request({ path: '/api/items' })).json()).toEqual({ you: 'Bearer REDACTED', items: [1] });
    // Recordings hold no real token, so replay can only ever hand over the placeholder.
    expect(persistedReplay).toEqual(['REDACTED']);
  });
});
