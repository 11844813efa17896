import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody, type BodyResult } from '../../src/listen/body.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Sends `chunks` as one request body (each its own write) and resolves with what readBody made of it. */
async function receive(chunks: Buffer[], cap = 1_000_000): Promise<BodyResult> {
  let result: Promise<BodyResult> | undefined;
  server = createServer((req, res) => {
    result = readBody(req, cap).body;
    void result.then(() => res.end('ok'));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
  return (await result) as BodyResult;
}

describe('reading a delivery body', () => {
  it('keeps the bytes as sent, in a buffer of their own (not a view of a shared pool)', async () => {
    // A small body: Buffer.concat would take it from the 8 KiB pool, and handing such a view
    // to the journal thread copies the whole pool.
    const body = await receive([Buffer.from('{"a":"é'), Buffer.from([0xe2, 0x82]), Buffer.from([0xac]), Buffer.from('"}')]);
    expect(Buffer.isBuffer(body)).toBe(true);
    const bytes = body as Buffer;
    expect(bytes.toString('utf8')).toBe('{"a":"é€"}');
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });

  it('refuses a body over the cap', async () => {
    expect(await receive([Buffer.alloc(600), Buffer.alloc(600)], 1_000)).toBe('too-large');
  });
});
