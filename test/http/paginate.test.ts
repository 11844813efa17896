import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../src/http/client.js';
import { atOrAfter, filtersClientSide, formatBound, lowerBound, withBound } from '../../src/http/incremental.js';
import { firstPage, nextPage, paginate, paginateRecords, parseLinkHeader, valueAt, type PaginationStyle } from '../../src/http/paginate.js';
import { SourceError } from '../../src/errors.js';
import { LosslessNumber, type JsonObject } from '../../src/protocol/json.js';
import { sendJson, startServer, type Handler, type TestServer } from './server.js';

let server: TestServer | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setup(handler: Handler): Promise<{ s: TestServer; c: HttpClient }> {
  server = await startServer(handler);
  client = createHttpClient({ baseUrl: server.url, retry: { maxAttempts: 1 } });
  return { s: server, c: client };
}

const ITEMS = Array.from({ length: 7 }, (_, i) => ({ id: i + 1 }));

function query(url: string): URLSearchParams {
  return new URL(url, 'http://x').searchParams;
}

async function collect(c: HttpClient, style: PaginationStyle, recordsPath: string | undefined, path = '/items'): Promise<number[]> {
  const ids: number[] = [];
  for await (const r of paginateRecords(c, { path }, style, { stream: 'items', recordsPath })) ids.push(r['id'] as number);
  return ids;
}

describe('pagination styles against a real server', () => {
  it('cursor in the body, sent back in a query parameter with the page size', async () => {
    const { s, c } = await setup((req, res) => {
      const q = query(req.url ?? '');
      const start = Number(q.get('after') ?? 0);
      const limit = Number(q.get('limit'));
      const page = ITEMS.slice(start, start + limit);
      const next = start + limit < ITEMS.length ? `c${start + limit}`.slice(1) : null;
      sendJson(res, 200, { data: page, meta: { next_cursor: next } });
    });
    const ids = await collect(c, { type: 'cursor', cursorPath: 'meta.next_cursor', cursorParam: 'after', limitParam: 'limit', pageSize: 3 }, 'data');
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.seen.map((r) => r.url)).toEqual(['/items?limit=3', '/items?limit=3&after=3', '/items?limit=3&after=6']);
  });

  it('Link header rel="next", relative or absolute, until there is none', async () => {
    const { s, c } = await setup((req, res) => {
      const page = Number(query(req.url ?? '').get('p') ?? 1);
      const links: string[] = [];
      if (page === 1) links.push(`</items?p=2>; rel="next", </items?p=3>; rel="last"`);
      if (page === 2) links.push(`<${server?.url ?? ''}/items?p=3>; rel="next"`);
      sendJson(res, 200, ITEMS.slice((page - 1) * 3, page * 3), links.length ? { link: links.join(', ') } : {});
    });
    expect(await collect(c, { type: 'link_header' }, undefined)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.seen.map((r) => r.url)).toEqual(['/items', '/items?p=2', '/items?p=3']);
  });

  it('offset and limit stop at a short page', async () => {
    const { s, c } = await setup((req, res) => {
      const q = query(req.url ?? '');
      const offset = Number(q.get('offset'));
      sendJson(res, 200, { items: ITEMS.slice(offset, offset + Number(q.get('limit'))) });
    });
    expect(await collect(c, { type: 'offset', offsetParam: 'offset', limitParam: 'limit', pageSize: 3 }, 'items')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.seen.map((r) => r.url)).toEqual(['/items?limit=3&offset=0', '/items?limit=3&offset=3', '/items?limit=3&offset=6']);
  });

  it('page numbers stop at an empty page when short pages are not trusted', async () => {
    const { s, c } = await setup((req, res) => {
      const page = Number(query(req.url ?? '').get('page'));
      // The server caps pages at 2 whatever was asked: a short page is not the end.
      sendJson(res, 200, { results: ITEMS.slice((page - 1) * 2, page * 2) });
    });
    const style: PaginationStyle = { type: 'page', pageParam: 'page', limitParam: 'per_page', pageSize: 3, stopOnShortPage: false };
    expect(await collect(c, style, 'results')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.seen.map((r) => query(r.url).get('page'))).toEqual(['1', '2', '3', '4', '5']);
  });

  it('next URL in the body', async () => {
    const { s, c } = await setup((req, res) => {
      const start = Number(query(req.url ?? '').get('from') ?? 0);
      sendJson(res, 200, { records: ITEMS.slice(start, start + 4), next: start + 4 < ITEMS.length ? `/items?from=${start + 4}` : null });
    });
    expect(await collect(c, { type: 'next_url', nextUrlPath: 'next' }, 'records')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.seen).toHaveLength(2);
  });

  it('stops at has_more: false even when a cursor is given', async () => {
    const { s, c } = await setup((req, res) => {
      const after = query(req.url ?? '').get('cursor');
      sendJson(res, 200, after ? { data: [{ id: 2 }], has_more: false, next: 'z' } : { data: [{ id: 1 }], has_more: true, next: 'a' });
    });
    expect(await collect(c, { type: 'cursor', cursorPath: 'next', cursorParam: 'cursor', hasMorePath: 'has_more' }, 'data')).toEqual([1, 2]);
    expect(s.seen).toHaveLength(2);
  });

  it('stops at an empty page even when the cursor goes on', async () => {
    const { s, c } = await setup((_req, res, _seen, i) => sendJson(res, 200, { data: i === 0 ? [{ id: 1 }] : [], next: `n${i}` }));
    expect(await collect(c, { type: 'cursor', cursorPath: 'next', cursorParam: 'cursor' }, 'data')).toEqual([1]);
    expect(s.seen).toHaveLength(2);
  });

  it('after the last record: its id in starting_after, until has_more is false', async () => {
    const ids = ['cus_a', 'cus_b', 'cus_c', 'cus_d', 'cus_e'];
    const { s, c } = await setup((req, res) => {
      const q = query(req.url ?? '');
      const after = q.get('starting_after');
      const limit = Number(q.get('limit'));
      const from = after === null ? 0 : ids.indexOf(after) + 1;
      const data = ids.slice(from, from + limit).map((id) => ({ id, object: 'customer' }));
      sendJson(res, 200, { object: 'list', url: '/v1/customers', data, has_more: from + limit < ids.length });
    });
    const style: PaginationStyle = { type: 'after_last', keyPath: 'id', param: 'starting_after', hasMorePath: 'has_more', limitParam: 'limit', pageSize: 2 };
    expect(await collect(c, style, 'data')).toEqual(ids);
    expect(s.seen.map((r) => r.url)).toEqual(['/items?limit=2', '/items?limit=2&starting_after=cus_b', '/items?limit=2&starting_after=cus_d']);
  });

  it('after the last record: a last id that comes back is a loop, not an endless read', async () => {
    const { c } = await setup((_req, res) => sendJson(res, 200, { data: [{ id: 'x' }], has_more: true }));
    await expect(collect(c, { type: 'after_last', keyPath: 'id', param: 'starting_after' }, 'data')).rejects.toThrow(
      /^stream items: pagination loop: the last record's id \(starting_after\) "x" came back a second time$/,
    );
  });

  it('yields whole pages with their responses', async () => {
    const { c } = await setup((req, res) => {
      const offset = Number(query(req.url ?? '').get('o'));
      sendJson(res, 200, { data: ITEMS.slice(offset, offset + 5), total: 7 });
    });
    const pages = [];
    for await (const p of paginate(c, { path: '/items' }, { type: 'offset', offsetParam: 'o', pageSize: 5 }, { stream: 'items', recordsPath: 'data' })) pages.push(p);
    expect(pages.map((p) => [p.index, p.records.length, p.response.status])).toEqual([[0, 5, 200], [1, 2, 200]]);
    expect(valueAt(pages[0]?.body, 'total')).toBe(7);
  });
});

describe('the next page travels while this one is processed', () => {
  // A server in its own process: it answers even while this process is busy, as a real API does.
  // It notes each request in a file, which this process can read without an event-loop turn.
  const SERVER = `
    const http = require('node:http');
    const fs = require('node:fs');
    const log = process.argv[1];
    const server = http.createServer((req, res) => {
      const page = Number(new URL(req.url, 'http://x').searchParams.get('page'));
      fs.appendFileSync(log, 'page ' + page + '\\n');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: page <= 2 ? [{ id: page * 2 - 1 }, { id: page * 2 }] : [] }));
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
  `;

  it('asks for the next page before handing over the current one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-prefetch-'));
    const requests = join(dir, 'requests.log');
    writeFileSync(requests, '');
    const child = spawn(process.execPath, ['-e', SERVER, requests], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
        const poll = setInterval(() => {
          const match = /^port (\d+)$/m.exec(output);
          if (match) {
            clearInterval(poll);
            resolve(match[1] as string);
          }
        }, 10);
      });
      client = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, retry: { maxAttempts: 1 } });
      let sawPage2WhileBusy = false;
      const ids: number[] = [];
      for await (const page of paginate(client, { path: '/items' }, { type: 'page', pageParam: 'page', pageSize: 2 }, { stream: 'items', recordsPath: 'data' })) {
        ids.push(...page.records.map((r) => r['id'] as number));
        if (page.index === 0) {
          // Processing page 1 without ever giving the event loop a turn, as the runner does:
          // the request for page 2 reaches the server meanwhile only if it already left. The
          // wait ends as soon as it arrives; the deadline only bounds a failing run.
          const deadline = Date.now() + 20_000;
          while (!(sawPage2WhileBusy = readFileSync(requests, 'utf8').includes('page 2')) && Date.now() < deadline);
        }
      }
      expect(ids).toEqual([1, 2, 3, 4]);
      // The server had the request for page 2 while page 1 was still being processed.
      expect(sawPage2WhileBusy, readFileSync(requests, 'utf8')).toBe(true);
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pagination loops fail naming the stream', () => {
  it('the same cursor twice', async () => {
    const { s, c } = await setup((_req, res, _seen, i) => sendJson(res, 200, { data: [{ id: i }], next: i === 0 ? 'A' : 'B' }));
    const run = collect(c, { type: 'cursor', cursorPath: 'next', cursorParam: 'cursor' }, 'data');
    await expect(run).rejects.toBeInstanceOf(SourceError);
    await expect(collect(c, { type: 'cursor', cursorPath: 'next', cursorParam: 'cursor' }, 'data')).rejects.toThrow(
      /^stream items: pagination loop: the cursor \(next\) "B" came back a second time$/,
    );
    expect(s.seen.length).toBeLessThan(10);
  });

  it('the same next URL twice', async () => {
    const { c } = await setup((_req, res) => sendJson(res, 200, [{ id: 1 }], { link: '</items?page=2>; rel="next"' }));
    await expect(collect(c, { type: 'link_header' }, undefined)).rejects.toThrow(/stream items: pagination loop: the next link "http:\/\/127\.0\.0\.1:\d+\/items\?page=2" came back/);
  });

  it('an API that ignores the offset parameter', async () => {
    const { c } = await setup((_req, res) => sendJson(res, 200, { data: [{ id: 1 }, { id: 2 }] }));
    await expect(collect(c, { type: 'offset', offsetParam: 'offset', pageSize: 2, limitParam: 'limit' }, 'data')).rejects.toThrow(
      'stream items: pagination loop: page 2 is identical to the page before it (is the offset (offset) parameter ignored?)',
    );
  });

  it('records that are not objects, or a records path that is not an array', async () => {
    const { c } = await setup((req, res) => sendJson(res, 200, req.url === '/a' ? { data: [1] } : { data: 'x' }));
    await expect(collect(c, { type: 'none' }, 'data', '/a')).rejects.toThrow('stream items: "data"[0] is not an object');
    await expect(collect(c, { type: 'none' }, 'data', '/b')).rejects.toThrow('stream items: "data" is not an array of records');
  });
});

describe('planners (pure)', () => {
  const view = (body: JsonObject, recordCount: number, headers: Record<string, string> = {}) => ({ body, headers, url: 'https://api.test/v1/items?x=1', recordCount });

  it('parses Link headers with several relations', () => {
    expect(parseLinkHeader('<https://a/1?page=2>; rel="next", <https://a/1?page=9>; rel="last"')).toEqual({ next: 'https://a/1?page=2', last: 'https://a/1?page=9' });
    expect(parseLinkHeader('<u>; title="x"; rel=next')).toEqual({ next: 'u' });
    expect(parseLinkHeader('')).toEqual({});
  });

  it('reads dotted paths through objects and arrays', () => {
    expect(valueAt({ a: { b: [{ c: 1 }] } }, 'a.b.0.c')).toBe(1);
    expect(valueAt({ a: 1 }, 'a.b')).toBeUndefined();
    expect(valueAt({ a: null }, 'a.b')).toBeUndefined();
  });

  it('offset advances by the records received, not the page size asked', () => {
    const style: PaginationStyle = { type: 'offset', offsetParam: 'skip', limitParam: 'take', pageSize: 100, stopOnShortPage: false };
    const first = firstPage({ path: '/x' }, style);
    expect(first.request.query).toEqual({ take: 100, skip: 0 });
    const step = nextPage({ path: '/x' }, first.request, style, first.position, view({}, 50));
    expect(step.done ? undefined : step.request.query).toEqual({ take: 100, skip: 50 });
  });

  it('next links resolve against the page URL and drop the base query', () => {
    const style: PaginationStyle = { type: 'next_url', nextUrlPath: 'links.next' };
    const step = nextPage({ path: '/items', query: { x: '1' } }, { path: '/items' }, style, { index: 0, offset: 0, page: 0 }, view({ links: { next: '?x=1&after=5' } }, 5));
    expect(step).toMatchObject({ done: false, token: 'https://api.test/v1/items?x=1&after=5', request: { path: 'https://api.test/v1/items?x=1&after=5' } });
    expect(step.done ? undefined : step.request.query).toBeUndefined();
  });

  it('cursors can be numbers (kept exact) and go into a JSON body', () => {
    const style: PaginationStyle = { type: 'cursor', cursorPath: 'next', cursorParam: 'after', paramsIn: 'body' };
    const base = { method: 'POST' as const, path: '/search', body: { q: 'x' } };
    const step = nextPage(base, base, style, { index: 0, offset: 0, page: 0 }, view({ next: new LosslessNumber('12345678901234567890') }, 1));
    expect(step.done ? undefined : step.request.body).toEqual({ q: 'x', after: '12345678901234567890' });
  });

  it('says why it stopped', () => {
    const pos = { index: 0, offset: 0, page: 1 };
    const page: PaginationStyle = { type: 'page', pageParam: 'p', pageSize: 10 };
    expect(nextPage({ path: '/' }, { path: '/' }, page, pos, view({}, 0))).toEqual({ done: true, reason: 'empty' });
    expect(nextPage({ path: '/' }, { path: '/' }, page, pos, view({}, 9))).toEqual({ done: true, reason: 'short' });
    expect(nextPage({ path: '/' }, { path: '/' }, { ...page, hasMorePath: 'more' }, pos, view({ more: false }, 10))).toEqual({ done: true, reason: 'has_more' });
    expect(nextPage({ path: '/' }, { path: '/' }, { type: 'link_header' }, pos, view({}, 10))).toEqual({ done: true, reason: 'no_next' });
    expect(nextPage({ path: '/' }, { path: '/' }, { type: 'none' }, pos, view({}, 10))).toEqual({ done: true, reason: 'single' });
  });
});

describe('incremental parameters', () => {
  const at = '2024-03-05T10:20:30.123Z';

  it('writes the bound in the format the API wants', () => {
    expect(formatBound(at, 'iso8601')).toBe('2024-03-05T10:20:30.123Z');
    expect(formatBound('2024-03-05T10:20:30.1239999Z', 'iso8601')).toBe('2024-03-05T10:20:30.123Z');
    expect(formatBound('2024-03-05T10:20:30+02:00', 'iso8601')).toBe('2024-03-05T08:20:30Z');
    expect(formatBound(at, 'date')).toBe('2024-03-05');
    expect(formatBound(at, 'epoch_seconds')).toBe(1709634030);
    expect(formatBound(at, 'epoch_ms')).toBe(1709634030123);
    expect(formatBound(1709634030, 'epoch_seconds')).toBe(1709634030);
    expect(formatBound(new LosslessNumber('42'), 'raw')).toBe('42');
    expect(() => formatBound('abc', 'epoch_ms')).toThrow('"abc" is not a date-time, cannot send it as epoch_ms');
  });

  it('moves the bookmark back by the lookback window, never start_date', () => {
    const rule = { param: 'since', format: 'iso8601' as const, lookbackMinutes: 90 };
    expect(lowerBound('2024-03-05T10:00:00Z', '2020-01-01T00:00:00Z', rule)).toBe('2024-03-05T08:30:00.000000Z');
    expect(lowerBound(undefined, '2020-01-01T00:00:00Z', rule)).toBe('2020-01-01T00:00:00Z');
    expect(lowerBound(undefined, undefined, rule)).toBeUndefined();
    expect(lowerBound(1_000_000, undefined, { format: 'epoch_seconds', lookbackMinutes: 1 })).toBe(999_940);
    expect(lowerBound(1_000_000, undefined, { format: 'epoch_ms', lookbackMinutes: 1 })).toBe(940_000);
    expect(lowerBound('2024-03-05T10:00:00Z', undefined, { format: 'iso8601' })).toBe('2024-03-05T10:00:00Z');
  });

  it('puts the bound in the query or the body, or nowhere without a parameter', () => {
    expect(withBound({ path: '/x' }, at, { param: 'since', format: 'date' }).query).toEqual({ since: '2024-03-05' });
    expect(withBound({ path: '/x', method: 'POST', body: { a: 1 } }, at, { param: 'from', format: 'epoch_ms', in: 'body' }).body).toEqual({ a: 1, from: 1709634030123 });
    expect(withBound({ path: '/x' }, at, { format: 'iso8601' })).toEqual({ path: '/x' });
    expect(withBound({ path: '/x' }, undefined, { param: 'since', format: 'iso8601' })).toEqual({ path: '/x' });
  });

  it('filters client-side with >= compared as instants, keeping records without a value', () => {
    expect(filtersClientSide({ format: 'iso8601' })).toBe(true);
    expect(filtersClientSide({ format: 'iso8601', param: 'since' })).toBe(false);
    expect(filtersClientSide({ format: 'iso8601', param: 'since', clientFilter: true })).toBe(true);
    const bound = '2024-03-05T10:00:00Z';
    expect(atOrAfter({ u: '2024-03-05T10:00:00.000000Z' }, 'u', bound)).toBe(true);
    expect(atOrAfter({ u: '2024-03-05T12:00:00+02:00' }, 'u', bound)).toBe(true);
    expect(atOrAfter({ u: '2024-03-05T09:59:59.999999Z' }, 'u', bound)).toBe(false);
    expect(atOrAfter({ u: null }, 'u', bound)).toBe(true);
    expect(atOrAfter({}, 'u', bound)).toBe(true);
    expect(atOrAfter({ u: 10 }, 'u', 10)).toBe(true);
    expect(atOrAfter({ u: 9 }, 'u', 10)).toBe(false);
  });
});
