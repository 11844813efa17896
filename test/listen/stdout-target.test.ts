import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/protocol/json.js';
import { StdoutTarget } from '../../src/targets/stdout.js';
import { caseFolders, runSync } from '../helpers/cli.js';
import { config, readAll } from '../sample/helpers.js';
import { NOW, deliver, payload, sign, spawnListener, waitFor, type Delivery, type Spawned, stoppedAfterEach } from './helpers.js';

/**
 * `sync listen --target -` behind a reader that does not keep up: the binary, its stdout a pipe
 * this test reads only when it chooses to. A delivery may be marked done only once its lines
 * have left the process (the OS took them), so a reader that stops holds the drain back, and a
 * crash meanwhile leaves what was not written pending, to be written by the next listener.
 */

const fresh = caseFolders('sync-listen-stdout-');
const children = stoppedAfterEach();
async function listen(dir: string): Promise<Spawned & { out: Readable }> {
  const spawned = await spawnListener(dir, ['--target', '-'], env, { stdout: 'keep' });
  children.push(spawned);
  const out = spawned.child.stdout;
  if (!out) throw new Error('the listener has no stdout pipe');
  return { ...spawned, out };
}

const env = { SYNC_SAMPLE_NOW: NOW };
const [template] = await readAll('customers', config({ customers: 1, orders: 1, now: NOW }));
if (!template) throw new Error('the sample shop has no customer');

/**
 * What may have left the listener without this test having read it yet: the socket pair Node
 * gives a child for stdout (about 208 KiB of send buffer here) and the stream buffers on either
 * side (64 KiB each). Measured: about 256 KiB. Twice that, to be safe on other kernels.
 */
const IN_TRANSIT = 512 * 1024;
/** A record line twice as large as IN_TRANSIT: none of it can be done while nobody reads. */
const BIG = 2 * IN_TRANSIT;

const customer = (id: number, nameLength: number): JsonObject => ({
  ...template,
  id,
  email: `c${id}@example.com`,
  name: 'x'.repeat(nameLength),
  updated_at: '2026-03-01T12:00:00.000Z',
});
const created = (id: number, nameLength: number): Delivery => sign(payload('customers.created', customer(id, nameLength)));

/** Delivery id → status, read from the journal file (read-only, beside the running listener). */
function statuses(journal: string): Map<string, string> {
  const db = new Database(journal, { readonly: true, fileMustExist: true });
  try {
    const found = db.prepare('SELECT delivery_id, status FROM deliveries ORDER BY seq').all() as Array<{ delivery_id: string; status: string }>;
    return new Map(found.map((r) => [r.delivery_id, r.status]));
  } finally {
    db.close();
  }
}

/** The customers in Singer output, in order of appearance; a line cut short by a kill is left out. */
function customerRecords(output: Buffer): JsonObject[] {
  return output
    .toString('utf8')
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as { type: string; stream?: string; record?: JsonObject })
    .filter((m) => m.type === 'RECORD' && m.stream === 'customers')
    .map((m) => m.record as JsonObject);
}

/** Waits until the listener has written more than this process took from the pipe: the pipe is full. */
async function pipeFull(out: Readable): Promise<void> {
  await waitFor(() => (out.readableLength >= out.readableHighWaterMark ? true : undefined), 'the unread pipe to fill up');
}

describe('sync listen --target - behind a slow reader', () => {
  it('marks nothing done while stdout is blocked; once read, every delivery arrives once, as sent', async () => {
    const dir = fresh();
    const journal = join(dir, 'sync-inbox.db');
    const l = await listen(dir);

    // A small delivery fits in the pipe: the OS takes its lines, so it is done though nobody reads yet.
    const small = created(1, 10);
    expect((await deliver(l.url, small)).status).toBe(200);
    await waitFor(() => (statuses(journal).get(small.id) === 'done' ? true : undefined), 'the small delivery done');

    const big = [2, 3, 4, 5].map((id) => created(id, BIG));
    for (const d of big) expect((await deliver(l.url, d)).status).toBe(200);
    await pipeFull(l.out);
    // Every big record is larger than what can have left the process: none of them may be done.
    expect(big.map((d) => statuses(journal).get(d.id))).toEqual(big.map(() => 'pending'));

    // Reading now, and at each chunk read: what is done must have been written.
    const chunks: Buffer[] = [];
    const violations: string[] = [];
    let read = 0;
    l.out.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      read += chunk.length;
      const now = statuses(journal);
      const done = big.filter((d) => now.get(d.id) === 'done').length;
      if (done * BIG > read + IN_TRANSIT) violations.push(`${done} big deliveries done when ${read} bytes had been read`);
    });
    await waitFor(() => (big.every((d) => statuses(journal).get(d.id) === 'done') ? true : undefined), 'every delivery done once read');
    expect(violations).toEqual([]);

    l.child.kill('SIGTERM');
    expect((await l.exit).code).toBe(0);
    const records = customerRecords(Buffer.concat(chunks));
    const sent = [small, ...big].map((d) => (JSON.parse(d.body as string) as { data: JsonObject }).data);
    expect(records).toEqual(sent);
  });

  it('kill -9 while stdout is blocked: what was not written stays pending, and the next listener writes it', async () => {
    const dir = fresh();
    const journal = join(dir, 'sync-inbox.db');
    const first = await listen(dir);
    const small = created(1, 10);
    expect((await deliver(first.url, small)).status).toBe(200);
    await waitFor(() => (statuses(journal).get(small.id) === 'done' ? true : undefined), 'the small delivery done');
    const big = [2, 3, 4].map((id) => created(id, BIG));
    for (const d of big) expect((await deliver(first.url, d)).status).toBe(200);
    await pipeFull(first.out);

    first.child.kill('SIGKILL');
    const leftInPipe: Buffer[] = [];
    first.out.on('data', (chunk: Buffer) => leftInPipe.push(chunk));
    expect((await first.exit).signal).toBe('SIGKILL');
    // Only the small delivery's record left the process before the kill, and only it is done.
    expect(customerRecords(Buffer.concat(leftInPipe)).map((r) => r['id'])).toEqual([1]);
    const list = await runSync(['inbox', 'list', '--format', 'json'], { cwd: dir });
    expect(list.code).toBe(0);
    const listed = list.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; status: string });
    expect(listed.map((d) => [d.id, d.status])).toEqual([
      [small.id, 'done'],
      ...big.map((d) => [d.id, 'pending']),
    ]);

    const second = await listen(dir);
    const written: Buffer[] = [];
    second.out.on('data', (chunk: Buffer) => written.push(chunk));
    await waitFor(() => ([...statuses(journal).values()].every((s) => s === 'done') ? true : undefined), 'the pending deliveries written');
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
    expect(customerRecords(Buffer.concat(written)).map((r) => r['id'])).toEqual([2, 3, 4]);
  });
});

describe('the stdout target', () => {
  it('returns from a commit only once the stream has taken every line before it', async () => {
    // A stream with room to spare (no backpressure) that reports each write done only when the test says.
    const pending: Array<() => void> = [];
    const lines: string[] = [];
    const out = new Writable({
      highWaterMark: 1_048_576,
      decodeStrings: false,
      write(chunk: string, _encoding, callback) {
        lines.push(chunk);
        pending.push(() => callback());
      },
    });
    const target = new StdoutTarget(out);
    let committed = false;
    const commit = target.commit({ bookmarks: { customers: 1 } }).then(() => (committed = true));
    // The only thing that can finish the commit is the write callback: a few turns change nothing.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual(['{"type":"STATE","value":{"bookmarks":{"customers":1}}}\n']);
    expect(committed).toBe(false);
    pending.shift()?.();
    await commit;
    expect(committed).toBe(true);
  });

  it('a failed write fails the commit', async () => {
    const out = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const target = new StdoutTarget(out);
    await expect(target.commit({ n: 1 })).rejects.toThrow('stdout was closed by the reading process (EPIPE)');
  });
});
