import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { caseFolders, runSync } from '../helpers/cli.js';

const fresh = caseFolders('sync-ping-');

interface Hit {
  method: string;
  path: string;
  body: string;
}

/** A stand-in for healthchecks.io: records every ping. */
async function pingServer(): Promise<{ url: string; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const KEY = '5f0c1d9e-7b2a-4c3e-9d11-a2b3c4d5e6f7';

describe('sync run --ping', () => {
  it('pings URL/start, then URL on success', async () => {
    const server = await pingServer();
    try {
      const run = await runSync(['run', 'sample', '--ping', `${server.url}/${KEY}`], { cwd: fresh() });
      expect(run.code, run.stderr).toBe(0);
      expect(server.hits).toEqual([
        { method: 'GET', path: `/${KEY}/start`, body: '' },
        { method: 'GET', path: `/${KEY}`, body: '' },
      ]);
    } finally {
      await server.close();
    }
  });

  it('pings URL/fail with the error line as the body on failure; the run keeps its exit code', async () => {
    const server = await pingServer();
    try {
      const run = await runSync(['run', 'sample', '--ping', `${server.url}/${KEY}/`], { cwd: fresh(), env: { SYNC_SAMPLE_ORDERS: '-5' } });
      expect(run.code).toBe(2);
      expect(server.hits.map((h) => `${h.method} ${h.path}`)).toEqual([`GET /${KEY}/start`, `POST /${KEY}/fail`]);
      expect(server.hits[1]?.body).toBe('invalid configuration for sample (1 problem): orders (SYNC_SAMPLE_ORDERS): must be >= 0 (got -5)');
    } finally {
      await server.close();
    }
  });

  it('a dead ping server is a warning that never names the URL, and the run succeeds', async () => {
    const server = await pingServer();
    await server.close();
    const run = await runSync(['run', 'sample', '--ping', `${server.url}/${KEY}`], { cwd: fresh() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`^warning: the start ping to ${server.url.replaceAll('.', '\\.')}/… failed: .+$`, 'm'));
    expect(run.stderr).toMatch(/^warning: the success ping to .* failed/m);
    expect(run.stderr).toMatch(/^sample → sqlite:sync\.db: customers 100, orders 500/m);
    expect(run.stderr).not.toContain(KEY);
  });

  it('refuses what is no http(s) URL before anything runs', async () => {
    const dir = fresh();
    const run = await runSync(['run', 'sample', '--ping', 'hc-ping.com/abc'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--ping must be an http:\/\/ or https:\/\/ URL/);
  });
});
