import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { apiKeyAuth } from '../../src/http/auth.js';
import { createHttpClient, type HttpClient, type HttpClientOptions } from '../../src/http/client.js';
import { errorRulesCheck } from '../../src/http/error-rules.js';
import { HttpAbortError, HttpStatusError, HttpTransportError, RateLimitedError } from '../../src/http/errors.js';
import { LosslessNumber } from '../../src/protocol/json.js';
import { memoryLogger, recordingSleep, sendJson, startServer, type Handler, type TestServer } from './server.js';

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);

let server: TestServer | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setup(handler: Handler, options: HttpClientOptions = {}): Promise<{ s: TestServer; c: HttpClient; waits: number[] }> {
  server = await startServer(handler);
  const { waits, sleep } = recordingSleep();
  client = createHttpClient({ baseUrl: server.url, sleep, now: () => T0, random: () => 0.5, ...options });
  return { s: server, c: client, waits };
}

/** Answers the scripted handlers in order, then the last one for ever. */
function sequence(...steps: Handler[]): Handler {
  return (req, res, seen, index) => (steps[Math.min(index, steps.length - 1)] as Handler)(req, res, seen, index);
}

const ok: Handler = (_req, res) => sendJson(res, 200, { ok: true });

describe('rate limits', () => {
  it('waits the seconds of Retry-After, then succeeds', async () => {
    const { s, c, waits } = await setup(sequence((_q, res) => sendJson(res, 429, { error: 'slow down' }, { 'retry-after': '2' }), ok));
    const res = await c.request({ path: '/v1/items' });
    expect(res.json()).toEqual({ ok: true });
    expect(waits).toEqual([2000]);
    expect(s.seen).toHaveLength(2);
  });

  it('waits until the HTTP date of Retry-After and warns naming the host', async () => {
    const { lines, log } = memoryLogger();
    const date = new Date(T0 + 42_000).toUTCString();
    const { s, c, waits } = await setup(sequence((_q, res) => sendJson(res, 429, {}, { 'retry-after': date }), ok), { log });
    await c.request({ path: '/v1/items', query: { api_key: 'abc' } });
    expect(waits).toEqual([42_000]);
    const host = new URL(s.url).host;
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([`rate limited by ${host}, waiting 42 s`]);
  });

  it('waits until the epoch of X-RateLimit-Reset (seconds and milliseconds)', async () => {
    const { c, waits } = await setup(
      sequence(
        (_q, res) => sendJson(res, 429, {}, { 'x-ratelimit-reset': String(T0 / 1000 + 30) }),
        (_q, res) => sendJson(res, 429, {}, { 'x-ratelimit-reset': String(T0 + 1500) }),
        ok,
      ),
    );
    await c.request({ path: '/v1/items' });
    expect(waits).toEqual([30_000, 1500]);
  });

  it("honours the connector's own reset header and GitHub's 403 rate limit", async () => {
    const { c, waits } = await setup(
      sequence(
        (_q, res) => sendJson(res, 403, {}, { 'x-ratelimit-remaining': '0', 'x-vendor-wait': '7' }),
        ok,
      ),
      { rateLimitResetHeader: 'X-Vendor-Wait' },
    );
    await c.request({ path: '/v1/items' });
    expect(waits).toEqual([7000]);
  });

  it('fails with RateLimitedError when asked to wait longer than allowed', async () => {
    const { s, c, waits } = await setup((_q, res) => sendJson(res, 429, {}, { 'retry-after': '3600' }));
    const err = await c.request({ path: '/v1/items' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    const e = err as RateLimitedError;
    expect(e.message).toBe('GET /v1/items rate limited (429 Too Many Requests): the server asks to wait 3600 s, more than the 900 s allowed');
    expect([e.status, e.retriable, e.retryAfterMs, e.exitCode, e.attempts]).toEqual([429, true, 3_600_000, 75, 1]);
    expect(waits).toEqual([]);
    expect(s.seen).toHaveLength(1);
  });

  it('ignores X-RateLimit-Reset on a 500 (it describes the window, not this failure)', async () => {
    const { c, waits } = await setup(
      sequence((_q, res) => sendJson(res, 500, {}, { 'x-ratelimit-reset': String(T0 / 1000 + 3000) }), ok),
    );
    await c.request({ path: '/x' });
    expect(waits).toEqual([500]);
  });
});

describe('retries', () => {
  it('retries a burst of 503s with exponential backoff, then succeeds', async () => {
    const unavailable: Handler = (_q, res) => sendJson(res, 503, { error: 'busy' });
    const { s, c, waits } = await setup(sequence(unavailable, unavailable, unavailable, ok));
    const res = await c.request({ path: '/v1/items' });
    expect(res.status).toBe(200);
    expect(waits).toEqual([500, 1000, 2000]);
    expect(s.seen).toHaveLength(4);
  });

  it('fails at once on 501', async () => {
    const { s, c } = await setup((_q, res) => sendJson(res, 501, { error: 'nope' }));
    const err = (await c.request({ path: '/v1/items' }).catch((e: unknown) => e)) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect([err.status, err.retriable, err.attempts, err.exitCode]).toEqual([501, false, 1, 1]);
    expect(s.seen).toHaveLength(1);
  });

  it('fails at once on 404, naming method and path, never the secret query value', async () => {
    const secret = 'sk_live_abc123SECRET';
    const { s, c } = await setup((req, res) => sendJson(res, 404, { error: `no route ${req.url ?? ''}` }), {
      auth: apiKeyAuth({ in: 'query', name: 'api_key', value: secret }),
    });
    const err = (await c.request({ path: '/v1/missing', query: { q: 'x' } }).catch((e: unknown) => e)) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.message).toBe('GET /v1/missing answered 404 Not Found: {"error":"no route /v1/missing?q=x&api_key=REDACTED"}');
    expect([err.method, err.path, err.status, err.retriable]).toEqual(['GET', '/v1/missing', 404, false]);
    expect(s.seen[0]?.url).toBe(`/v1/missing?q=x&api_key=${secret}`);
    expect(s.seen).toHaveLength(1);
  });

  it('keeps the body snippet of a 4xx to 200 characters on one line', async () => {
    const { c } = await setup((_q, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`bad\n\n  request ${'x'.repeat(500)}`);
    });
    const err = (await c.request({ path: '/v1/items' }).catch((e: unknown) => e)) as HttpStatusError;
    expect(err.bodySnippet).toHaveLength(200);
    expect(err.bodySnippet?.startsWith('bad request xxx')).toBe(true);
  });

  it('retries a connection reset mid-response', async () => {
    const { s, c } = await setup(
      sequence((_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.socket?.resetAndDestroy(), 20);
      }, ok),
    );
    const res = await c.request({ path: '/v1/items' });
    expect(res.json()).toEqual({ ok: true });
    expect(s.seen).toHaveLength(2);
  });

  it('retries a body shorter than its content-length', async () => {
    const { lines, log } = memoryLogger();
    const { s, c } = await setup(
      sequence((_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '50' });
        res.write('{"ok":tr');
        setTimeout(() => res.socket?.end(), 20);
      }, ok),
      { log },
    );
    const res = await c.request({ path: '/v1/items' });
    expect(res.json()).toEqual({ ok: true });
    expect(s.seen).toHaveLength(2);
    expect(lines.map((l) => l.message)).toEqual([
      expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/v1\/items → connection closed by the server \(UND_ERR_SOCKET\) in \d+ ms$/),
      expect.stringMatching(/^retrying GET \/v1\/items in 500 ms after .+ \(attempt 2 of 5\)$/),
      expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/v1\/items → 200 in \d+ ms \(attempt 2\)$/),
    ]);
  });

  it('retries a 2xx whose JSON is not JSON (content-type or expectJson)', async () => {
    const { s, c } = await setup(
      sequence(
        (_q, res) => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
          res.end('<html>gateway hiccup</html>');
        },
        (_q, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('');
        },
        ok,
      ),
    );
    const res = await c.request({ path: '/v1/items', expectJson: true });
    expect(res.json()).toEqual({ ok: true });
    expect(s.seen).toHaveLength(3);
  });

  it('does not check JSON when the body does not claim to be JSON', async () => {
    const { c } = await setup((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end('a,b\n1,2\n');
    });
    const res = await c.request({ path: '/export.csv' });
    expect(res.text()).toBe('a,b\n1,2\n');
  });

  it('gives up after the attempts allowed and says how many', async () => {
    const { s, c, waits } = await setup((_q, res) => sendJson(res, 503, {}));
    const err = (await c.request({ path: '/v1/flaky', query: { page: 2 } }).catch((e: unknown) => e)) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.message).toBe('GET /v1/flaky answered 503 Service Unavailable, still failing after 5 attempts');
    expect([err.attempts, err.retriable, err.exitCode]).toEqual([5, true, 75]);
    expect(s.seen).toHaveLength(5);
    expect(waits).toEqual([500, 1000, 2000, 4000]);
  });

  it('gives up on a refused connection after the attempts allowed', async () => {
    const s = await startServer(ok);
    const url = s.url;
    await s.close();
    const { sleep, waits } = recordingSleep();
    client = createHttpClient({ baseUrl: url, sleep, retry: { maxAttempts: 3 }, random: () => 0 });
    const err = (await client.request({ path: '/v1/items' }).catch((e: unknown) => e)) as HttpTransportError;
    expect(err).toBeInstanceOf(HttpTransportError);
    expect(err.message).toBe('GET /v1/items failed after 3 attempts: connection refused (ECONNREFUSED)');
    expect([err.status, err.attempts, err.retriable]).toEqual([0, 3, true]);
    expect(waits).toEqual([0, 0]);
  });

  it('retries a response that does not start within the headers timeout', async () => {
    const { s, c } = await setup(
      sequence((_q, res) => {
        setTimeout(() => {
          if (!res.destroyed) sendJson(res, 200, { late: true });
        }, 1000);
      }, ok),
      { timeouts: { headersMs: 150 } },
    );
    const res = await c.request({ path: '/slow' });
    // Without the timeout the late first answer would have been returned.
    expect(res.json()).toEqual({ ok: true });
    expect(s.seen).toHaveLength(2);
  });
});

describe('error answers judged by their body (errorCheck)', () => {
  const rules = errorRulesCheck([
    { statuses: [403], path: '0.message', values: ['TotalRequests Limit exceeded.'], then: 'later', reason: 'the daily allowance is used up' },
    { statuses: [403], path: '0.errorCode', values: ['REQUEST_LIMIT_EXCEEDED'], then: 'retry', reason: 'too many at once' },
  ]);
  const refuse = (message: string): Handler => (_q, res) => sendJson(res, 403, [{ message, errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);

  it('retries what a rule calls passing, with backoff', async () => {
    const { s, c, waits } = await setup(sequence(refuse('ConcurrentPerOrgLongTxn Limit exceeded.'), ok), { ...(rules ? { errorCheck: rules } : {}) });
    expect((await c.request({ path: '/q' })).json()).toEqual({ ok: true });
    expect(s.seen).toHaveLength(2);
    expect(waits).toEqual([500]);
  });

  it('fails at once, retriable (exit 75), what a rule says only a later run can do, quoting the body', async () => {
    const { s, c, waits } = await setup(refuse('TotalRequests Limit exceeded.'), { ...(rules ? { errorCheck: rules } : {}) });
    const err = (await c.request({ path: '/q' }).catch((e: unknown) => e)) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.message).toBe(
      'GET /q answered 403 Forbidden: the daily allowance is used up ([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]); not retried in this run: a later run may succeed',
    );
    expect([err.status, err.attempts, err.retriable, err.exitCode]).toEqual([403, 1, true, 75]);
    expect(s.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('leaves an answer no rule matches to its status: a 403 fails at once, exit 1', async () => {
    const { s, c } = await setup((_q, res) => sendJson(res, 403, [{ message: 'no access', errorCode: 'INSUFFICIENT_ACCESS' }]), { ...(rules ? { errorCheck: rules } : {}) });
    const err = (await c.request({ path: '/q' }).catch((e: unknown) => e)) as HttpStatusError;
    expect([err.status, err.retriable, err.exitCode]).toEqual([403, false, 1]);
    expect(s.seen).toHaveLength(1);
  });
});

describe('abort', () => {
  it('stops a long Retry-After wait promptly with an AbortError', async () => {
    const controller = new AbortController();
    server = await startServer((_q, res) => sendJson(res, 429, {}, { 'retry-after': '600' }));
    client = createHttpClient({ baseUrl: server.url, signal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const err = (await client.request({ path: '/v1/items' }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(HttpAbortError);
    expect(err.name).toBe('AbortError');
    expect(err.message).toBe('GET /v1/items aborted');
    // Far below the 600 s the server asked for: the wait was cut short, not served.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(server.seen).toHaveLength(1);
  });

  it('stops a request in flight', async () => {
    const controller = new AbortController();
    server = await startServer(() => {
      // never answers
    });
    client = createHttpClient({ baseUrl: server.url, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const err = (await client.request({ path: '/hang' }).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
  });

  it('refuses to start once aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    server = await startServer(ok);
    client = createHttpClient({ baseUrl: server.url, signal: controller.signal });
    const err = (await client.request({ path: '/x' }).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
    expect(server.seen).toHaveLength(0);
  });
});

describe('bodies', () => {
  const payload = { items: [{ id: 1, name: 'é ☃' }], total: 1 };
  const compressed = (encoding: string, data: Buffer): Handler => (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': data.length });
    res.end(data);
  };
  const json = Buffer.from(JSON.stringify(payload));

  it.each([
    ['gzip', gzipSync(json)],
    ['br', brotliCompressSync(json)],
    ['deflate', deflateSync(json)],
  ])('decodes %s bodies', async (encoding, data) => {
    const { s, c } = await setup(compressed(encoding, data));
    const res = await c.request({ path: '/v1/items' });
    expect(res.json()).toEqual(payload);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBeUndefined();
    expect(s.seen[0]?.headers['accept-encoding']).toBe('gzip, br, deflate');
  });

  it('retries a corrupt gzip body', async () => {
    const good = gzipSync(json);
    const corrupt = good.subarray(0, good.length - 12);
    const { s, c } = await setup(sequence(compressed('gzip', corrupt), compressed('gzip', good)));
    const res = await c.request({ path: '/v1/items' });
    expect(res.json()).toEqual(payload);
    expect(s.seen).toHaveLength(2);
  });

  it('keeps big numbers exact both ways and sends JSON, form and query as declared', async () => {
    const { s, c } = await setup((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":12345678901234567890123,"n":1}');
    });
    const res = await c.request({
      method: 'POST',
      path: 'v1/search',
      query: { tag: ['a', 'b c'], active: true, limit: 10, skip: undefined },
      body: { after: new LosslessNumber('98765432109876543210'), q: 'x' },
    });
    const value = res.json() as Record<string, unknown>;
    expect(value['id']).toBeInstanceOf(LosslessNumber);
    expect(String(value['id'])).toBe('12345678901234567890123');
    expect(s.seen[0]?.url).toBe('/v1/search?tag=a&tag=b%20c&active=true&limit=10');
    expect(s.seen[0]?.body).toBe('{"after":98765432109876543210,"q":"x"}');
    expect(s.seen[0]?.headers['content-type']).toBe('application/json');
    expect(res.url).toBe(`${s.url}/v1/search?tag=a&tag=b%20c&active=true&limit=10`);

    await c.request({ method: 'POST', path: '/form', form: { a: '1', b: 'x y' }, headers: { 'X-Trace': 't1' } });
    expect(s.seen[1]?.body).toBe('a=1&b=x+y');
    expect(s.seen[1]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(s.seen[1]?.headers['x-trace']).toBe('t1');
    expect(s.seen[1]?.headers['user-agent']).toBe('sync');
  });

  it('reuses keep-alive connections for sequential requests', async () => {
    const ports = new Set<number>();
    const { c } = await setup((req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      sendJson(res, 200, {});
    });
    for (let i = 0; i < 10; i++) await c.request({ path: '/x' });
    // undici's pool may open a second socket while the first finishes its bookkeeping;
    // without keep-alive this would be 10.
    expect(ports.size).toBeLessThanOrEqual(2);
  });

  it('follows redirects', async () => {
    const { c } = await setup((req, res) => {
      if (req.url === '/old') {
        res.writeHead(301, { location: '/new' });
        res.end();
      } else sendJson(res, 200, { at: req.url });
    });
    expect((await c.request({ path: '/old' })).json()).toEqual({ at: '/new' });
  });
});
