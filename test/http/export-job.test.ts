import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../src/http/index.js';
import { awaitExport, readJsonLines, runExport, type ExportJob } from '../../src/http/export-job.js';
import type { JsonValue } from '../../src/protocol/json.js';
import { memoryLogger, sendJson, startServer, type TestServer } from './server.js';

/** The generic export job: start, poll through the shared client, stream the result file. */

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

const fast = { first: 1, max: 4 };

/** A job API: POST /jobs starts one, GET /jobs/1 reports it, done after `polls` polls. */
async function jobApi(polls: number, end: 'done' | 'failed', resultUrl: () => string): Promise<TestServer> {
  let seen = 0;
  const server = await startServer((req, res) => {
    if (req.method === 'POST') return sendJson(res, 200, { id: 1, state: 'running' });
    seen++;
    if (seen < polls) return sendJson(res, 200, { id: 1, state: 'running' });
    return sendJson(res, 200, end === 'done' ? { id: 1, state: 'done', url: resultUrl() } : { id: 1, state: 'failed', error: 'quota exceeded' });
  });
  closers.push(() => server.close());
  return server;
}

interface Status {
  state: string;
  url?: string;
  error?: string;
}

const job: ExportJob<Status> = {
  name: 'export of items',
  start: async (client) => (await client.request({ method: 'POST', path: '/jobs', expectJson: true })).json() as unknown as Status,
  poll: async (client) => (await client.request({ path: '/jobs/1', expectJson: true })).json() as unknown as Status,
  outcome: (s) => (s.state === 'done' ? { state: 'done', url: s.url } : s.state === 'failed' ? { state: 'failed', reason: s.error ?? '?' } : { state: 'running' }),
};

/** A storage host: the file, cut off after `cutAt` bytes on the first request, with Range support. */
async function storage(file: string, cutAt?: number): Promise<{ url: string; ranges: Array<string | undefined>; auth: Array<string | undefined> }> {
  const ranges: Array<string | undefined> = [];
  const auth: Array<string | undefined> = [];
  const bytes = Buffer.from(file);
  const server: Server = createServer((req, res) => {
    ranges.push(req.headers.range);
    auth.push(req.headers.authorization);
    if (!req.url?.includes('sig=s3cr3t')) {
      res.writeHead(403);
      res.end('denied');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (ranges.length === 1 && cutAt !== undefined) {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, cutAt), () => res.destroy());
      return;
    }
    const start = range ? Number(range[1]) : 0;
    res.writeHead(range ? 206 : 200, range ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {});
    res.end(bytes.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/exports/1.jsonl?sig=s3cr3t`, ranges, auth };
}

async function collect(values: AsyncIterable<JsonValue>): Promise<JsonValue[]> {
  const out: JsonValue[] = [];
  for await (const v of values) out.push(v);
  return out;
}

const lines = Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}` }));
const file = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

describe('export jobs', () => {
  it('polls until the job is done, then streams its file in order, without the API credentials', async () => {
    const store = await storage(file);
    const api = await jobApi(3, 'done', () => store.url);
    const client = createHttpClient({ baseUrl: api.url, headers: { authorization: 'Bearer api-token' } });
    const { log } = memoryLogger();
    const values = await collect(runExport(client, job, { log, signal: new AbortController().signal, pollMs: fast }));
    await client.close();
    expect(values).toEqual(lines);
    expect(api.seen.map((r) => r.method)).toEqual(['POST', 'GET', 'GET', 'GET']);
    expect(store.auth).toEqual([undefined]);
  });

  it('a failed job is an error naming the job and the reason', async () => {
    const api = await jobApi(2, 'failed', () => '');
    const client = createHttpClient({ baseUrl: api.url });
    const { log } = memoryLogger();
    await expect(awaitExport(client, job, { log, signal: new AbortController().signal, pollMs: fast })).rejects.toThrow('export of items failed: quota exceeded');
    await client.close();
  });

  it('resumes a download that broke off where it stopped, each line once', async () => {
    const store = await storage(file, 1000);
    const { log, lines: logged } = memoryLogger();
    const values = await collect(readJsonLines(store.url, { log, signal: new AbortController().signal, sleep: async () => {} }));
    expect(values).toEqual(lines);
    expect(store.ranges).toEqual([undefined, 'bytes=1000-']);
    // The signed URL's query never reaches a message.
    expect(logged.some((l) => l.level === 'warn' && l.message.includes('broke off at byte 1000'))).toBe(true);
    expect(logged.every((l) => !l.message.includes('s3cr3t'))).toBe(true);
  });

  it('a refused download fails at once, naming host and path but not the signature', async () => {
    const store = await storage(file);
    const { log } = memoryLogger();
    const wrong = store.url.replace('s3cr3t', 'expired');
    const error = await collect(readJsonLines(wrong, { log, signal: new AbortController().signal })).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/downloading the export at 127\.0\.0\.1:\d+\/exports\/1\.jsonl: answered 403/);
    expect(error?.message).not.toContain('expired');
  });

  it('a line that is not JSON fails the read, naming the file', async () => {
    const store = await storage('{"id": 1}\n{"id": 2,\n');
    const { log } = memoryLogger();
    await expect(collect(readJsonLines(store.url, { log, signal: new AbortController().signal }))).rejects.toThrow(/reading the export at 127\.0\.0\.1:\d+\/exports\/1\.jsonl: Could not parse row/);
  });
});
