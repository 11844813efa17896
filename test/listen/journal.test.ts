import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import sample from '../../connectors/sample/index.js';
import { Journal, type NewDelivery } from '../../src/listen/journal.js';
import { JournalUnavailable, JournalWriter, type JournalSink } from '../../src/listen/journal-writer.js';
import { Retention, parseDurationMs } from '../../src/listen/retention.js';
import { silentLogger } from '../../src/log.js';
import { WebhookMapper, withVersion } from '../../src/listen/mapping.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir('sync-journal-');
afterAll(tmp.cleanup);
let n = 0;
const journalPath = (): string => join(tmp.dir, `journal-${++n}.db`);

/** Rechecks far apart: these tests look at one failure at a time. */
const limits = (maxQueued: number) => ({ maxQueued, maxQueuedBytes: 1 << 20, recheckMs: 60_000 });

/** Lets every callback already scheduled run (setImmediate is how the writer gathers a batch). */
async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((r) => setImmediate(r));
}

const delivery = (id: string, body = '{}'): NewDelivery => ({
  connector: 'sample',
  deliveryId: id,
  receivedAt: '2026-03-01T00:00:00.000000Z',
  event: 'customers.updated',
  method: 'POST',
  url: '/webhooks/sample',
  headers: { 'webhook-id': [id] },
  body: Buffer.from(body),
});

describe('the journal', () => {
  it('stores each delivery id once per connector and keeps the raw bytes', () => {
    const journal = new Journal(journalPath());
    const bytes = Buffer.from([0x7b, 0xf0, 0x9f, 0x98, 0x80, 0x7d]);
    expect(journal.append([delivery('a'), { ...delivery('b'), body: bytes }, delivery('a')])).toEqual(['stored', 'stored', 'duplicate']);
    expect(journal.append([delivery('b')])).toEqual(['duplicate']);
    expect(journal.append([{ ...delivery('b'), connector: 'other' }])).toEqual(['stored']);
    const stored = journal.select({ connector: 'sample' });
    expect(stored.map((d) => d.deliveryId)).toEqual(['a', 'b']);
    expect(stored[1]?.body.equals(bytes)).toBe(true);
    expect(stored[1]?.headers).toEqual({ 'webhook-id': ['b'] });
    journal.close();
  });

  it('hands out pending deliveries after a cursor and settles them done or dead', () => {
    const journal = new Journal(journalPath());
    journal.append([delivery('a'), delivery('b'), delivery('c')]);
    const pending = journal.pending(['sample'], 0, 10);
    expect(pending.map((d) => d.status)).toEqual(['pending', 'pending', 'pending']);
    expect(journal.pending(['sample'], pending[0]?.seq ?? 0, 10).map((d) => d.deliveryId)).toEqual(['b', 'c']);
    expect(journal.pending(['github'], 0, 10)).toEqual([]);
    journal.settle([pending[0]?.seq ?? 0, pending[2]?.seq ?? 0], [{ seq: pending[1]?.seq ?? 0, error: 'bad' }]);
    expect(journal.counts()).toEqual({ pending: 0, done: 2, dead: 1 });
    expect(journal.select({ status: 'dead' }).map((d) => [d.deliveryId, d.error, d.attempts])).toEqual([['b', 'bad', 1]]);
    expect(journal.select({ since: '2026-03-01T00:00:00.000001Z' })).toEqual([]);
    journal.close();
  });

  it('survives reopening (it is a file, not memory)', () => {
    const path = journalPath();
    const first = new Journal(path);
    first.append([delivery('a')]);
    first.close();
    const again = new Journal(path);
    expect(again.append([delivery('a')])).toEqual(['duplicate']);
    again.close();
  });
});

describe('group commit', () => {
  it('writes deliveries that arrive together in one commit', async () => {
    const journal = new Journal(journalPath());
    let woken = 0;
    const writer = new JournalWriter(journal, limits(1_000), () => woken++);
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => writer.append(delivery(`d${i % 90}`))));
    expect(outcomes.filter((o) => o === 'stored')).toHaveLength(90);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(10);
    expect(writer.commits).toBe(1);
    expect(woken).toBe(1);
    await writer.append(delivery('later'));
    expect(writer.commits).toBe(2);
    journal.close();
  });

  it('refuses what does not fit in the queue instead of buffering it', async () => {
    const journal = new Journal(journalPath());
    const writer = new JournalWriter(journal, limits(5));
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => writer.append(delivery(`d${i}`))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(3);
    expect(refused.every((r) => r.reason instanceof JournalUnavailable)).toBe(true);
    expect(journal.counts().pending).toBe(5);
    journal.close();
  });

  it('rejects every waiting delivery when the commit fails, and says so', async () => {
    const journal = new Journal(journalPath());
    const writer = new JournalWriter(journal, limits(10));
    journal.close();
    const results = await Promise.allSettled([writer.append(delivery('a')), writer.append(delivery('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof JournalUnavailable)).toBe(true);
    expect(writer.unavailable()).toMatch(/^the journal cannot be written/);
    writer.close();
  });

  it('after a failure refuses at once until a recheck takes the write lock, then stores again', async () => {
    const path = journalPath();
    const journal = new Journal(path, { busyTimeoutMs: 20 });
    // The journal itself, counting the rechecks (appends of nothing) on their way through.
    const rechecks = { count: 0 };
    const sink: JournalSink = {
      append: (entries) => {
        if (entries.length === 0) rechecks.count++;
        return journal.append(entries);
      },
    };
    const writer = new JournalWriter(sink, { maxQueued: 10, maxQueuedBytes: 1 << 20, recheckMs: 10 });
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      await expect(writer.append(delivery('a'))).rejects.toThrow(/the journal cannot be written \(SQLITE_BUSY\)/);
      expect(writer.unavailable()).toMatch(/SQLITE_BUSY/);
      // Refused without trying the journal: no commit runs for it.
      await expect(writer.append(delivery('b'))).rejects.toBeInstanceOf(JournalUnavailable);
      expect(writer.commits).toBe(0);
      // Rechecks keep failing while the lock is held: still unavailable after several.
      await waitUntil(() => rechecks.count >= 3);
      expect(writer.unavailable()).toMatch(/SQLITE_BUSY/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await waitUntil(() => writer.unavailable() === undefined);
    expect(await writer.append(delivery('c'))).toBe('stored');
    expect(journal.select({}).map((d) => d.deliveryId)).toEqual(['c']);
    writer.close();
    journal.close();
  });
});

describe('group commit on another thread (an asynchronous sink)', () => {
  /** A sink like the journal thread: commits when the test says so, acks afterwards. */
  function manualSink(journal: Journal): JournalSink & { batches: number[]; release: (fail?: Error) => void } {
    let pending: Array<() => void> = [];
    const sink = {
      batches: [] as number[],
      append(entries: readonly { deliveryId: string }[]) {
        sink.batches.push(entries.length);
        return new Promise<ReturnType<Journal['append']>>((resolve, reject) => {
          pending.push(() => {
            try {
              resolve(journal.append(entries as Parameters<Journal['append']>[0]));
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        });
      },
      release(fail?: Error) {
        const run = pending;
        pending = [];
        for (const p of run) {
          if (fail) journal.close();
          p();
        }
      },
    };
    return sink;
  }

  it('answers nothing before the ack; what arrives during a commit is the next batch', async () => {
    const journal = new Journal(journalPath());
    const sink = manualSink(journal);
    const writer = new JournalWriter(sink, limits(1_000));
    let answered = 0;
    const first = Array.from({ length: 3 }, (_, i) => writer.append(delivery(`a${i}`)).then((o) => (answered++, o)));
    await new Promise((r) => setImmediate(r));
    expect(sink.batches).toEqual([3]);
    const second = Array.from({ length: 5 }, (_, i) => writer.append(delivery(`b${i}`)).then((o) => (answered++, o)));
    await turns();
    // One commit at a time: the second batch waits for the first ack, and nobody is answered yet.
    expect(sink.batches).toEqual([3]);
    expect(answered).toBe(0);
    expect(journal.counts().pending).toBe(0);
    sink.release();
    expect(await Promise.all(first)).toEqual(['stored', 'stored', 'stored']);
    expect(sink.batches).toEqual([3, 5]);
    expect(answered).toBe(3);
    let idle = false;
    const idled = writer.idle().then(() => (idle = true));
    await turns();
    expect(idle).toBe(false);
    sink.release();
    expect(await Promise.all(second)).toHaveLength(5);
    await idled;
    expect(journal.counts().pending).toBe(8);
    journal.close();
  });

  it('with two commits allowed in flight, the next batch starts before the first ack, and idle waits for both', async () => {
    const journal = new Journal(journalPath());
    const sink = manualSink(journal);
    const writer = new JournalWriter(sink, { ...limits(1_000), commitsInFlight: 2 });
    const first = [writer.append(delivery('a')), writer.append(delivery('b'))];
    await new Promise((r) => setImmediate(r));
    const second = [writer.append(delivery('c'))];
    await turns();
    expect(sink.batches).toEqual([2, 1]);
    // A third batch waits: both commits are running.
    const third = writer.append(delivery('d'));
    await turns();
    expect(sink.batches).toEqual([2, 1]);
    let idle = false;
    const idled = writer.idle().then(() => (idle = true));
    sink.release();
    expect(await Promise.all([...first, ...second])).toEqual(['stored', 'stored', 'stored']);
    await turns();
    expect(sink.batches).toEqual([2, 1, 1]);
    expect(idle).toBe(false);
    sink.release();
    expect(await third).toBe('stored');
    await idled;
    expect(journal.counts().pending).toBe(4);
    journal.close();
  });

  it('a failed commit rejects its batch and, failing fast, what gathered meanwhile', async () => {
    const journal = new Journal(journalPath());
    const sink = manualSink(journal);
    const writer = new JournalWriter(sink, limits(1_000));
    const first = writer.append(delivery('a'));
    await new Promise((r) => setImmediate(r));
    const second = writer.append(delivery('b'));
    sink.release(new Error('gone'));
    const results = await Promise.allSettled([first, second]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof JournalUnavailable)).toBe(true);
    await expect(writer.append(delivery('c'))).rejects.toBeInstanceOf(JournalUnavailable);
    expect(sink.batches).toEqual([1]);
    await writer.idle();
    writer.close();
  });
});

describe('the journal thread (built code in dist/, as `sync listen` runs it)', () => {
  it('acks a batch only once it is committed, and runs retention between commits', async () => {
    const url = new URL('../../dist/src/listen/journal-thread.js', import.meta.url);
    const { startJournalThread } = (await import(url.href)) as typeof import('../../src/listen/journal-thread.js');
    const path = journalPath();
    new Journal(path).close();
    const lines: string[] = [];
    const failures: Error[] = [];
    const log = { debug: () => {}, info: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) };
    const thread = await startJournalThread({ journalPath: path, busyTimeoutMs: 1_000, retention: { olderThanMs: 60_000, everyMs: 100, batch: 2 } }, log, (e) => failures.push(e));
    const writer = new JournalWriter(thread, limits(1_000));
    const old = (id: string): NewDelivery => ({ ...delivery(id), receivedAt: '2020-01-01T00:00:00.000000Z' });
    const outcomes = await Promise.all([writer.append(old('x1')), writer.append(old('x2')), writer.append(old('x3')), writer.append({ ...delivery('fresh'), receivedAt: new Date().toISOString().replace('Z', '000Z') }), writer.append(old('x1'))]);
    expect(outcomes).toEqual(['stored', 'stored', 'stored', 'stored', 'duplicate']);
    expect(writer.commits).toBe(1);
    // Acked means committed: another connection sees every row at once.
    const reader = new Journal(path);
    expect(reader.counts().pending).toBe(4);
    reader.settle(reader.pending(['sample'], 0, 10).map((d) => d.seq), []);
    await waitUntil(() => reader.counts().done === 1);
    expect(reader.select({}).map((d) => d.deliveryId)).toEqual(['fresh']);
    // The thread's log line is relayed after its delete commits: wait for it, not for the rows.
    await waitUntil(() => /journal retention: deleted 3 done deliveries received before/.test(lines.join('\n')));
    reader.close();
    await thread.close();
    await expect(thread.append([delivery('late')])).rejects.toThrow(/journal thread stopped/);
    expect(failures).toEqual([]);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('retention', () => {
  const DAY = 86_400_000;
  const now = Date.parse('2026-03-10T00:00:00Z');
  const at = (daysAgo: number): string => new Date(now - daysAgo * DAY).toISOString().replace('Z', '000Z');
  const settleAll = (journal: Journal, dead: string[] = []): void => {
    const all = journal.pending(['sample'], 0, 1_000);
    journal.settle(
      all.filter((d) => !dead.includes(d.deliveryId)).map((d) => d.seq),
      all.filter((d) => dead.includes(d.deliveryId)).map((d) => ({ seq: d.seq, error: 'bad' })),
    );
  };

  it('deletes only done deliveries older than the retention, in batches; dead and pending stay', async () => {
    const journal = new Journal(journalPath());
    journal.append(Array.from({ length: 12 }, (_, i) => ({ ...delivery(`old${i}`), receivedAt: at(8 + i / 10) })));
    journal.append([{ ...delivery('old-dead'), receivedAt: at(30) }, { ...delivery('recent'), receivedAt: at(6) }]);
    settleAll(journal, ['old-dead']);
    journal.append([{ ...delivery('old-pending'), receivedAt: at(40) }]);
    const batches: number[] = [];
    const counting: Pick<Journal, 'prune'> = {
      prune: (o) => {
        const n = journal.prune(o);
        batches.push(n);
        return n;
      },
    };
    const retention = new Retention(counting, { olderThanMs: 7 * DAY, everyMs: 60_000, batch: 5, log: silentLogger });
    expect(await retention.sweep(now)).toBe(12);
    expect(batches).toEqual([5, 5, 2]);
    expect(journal.select({}).map((d) => [d.deliveryId, d.status])).toEqual([
      ['old-dead', 'dead'],
      ['recent', 'done'],
      ['old-pending', 'pending'],
    ]);
    expect(await retention.sweep(now)).toBe(0);
    journal.close();
  });

  it('a retry inside the retention is still a duplicate; after pruning the same id is stored again', async () => {
    const journal = new Journal(journalPath());
    journal.append([{ ...delivery('evt_1'), receivedAt: at(3) }]);
    settleAll(journal);
    const retention = new Retention(journal, { olderThanMs: 7 * DAY, everyMs: 60_000, batch: 100, log: silentLogger });
    expect(await retention.sweep(now)).toBe(0);
    expect(journal.append([delivery('evt_1')])).toEqual(['duplicate']);
    // Eight days later the delivery is gone: a (very late) redelivery is stored, and processed, again.
    expect(await retention.sweep(now + 5 * DAY)).toBe(1);
    expect(journal.append([delivery('evt_1')])).toEqual(['stored']);
    expect(journal.counts()).toEqual({ pending: 1, done: 0, dead: 0 });
    journal.close();
  });

  it('prunes dead letters only when asked, and by connector', () => {
    const journal = new Journal(journalPath());
    journal.append([
      { ...delivery('a'), receivedAt: at(10) },
      { ...delivery('b'), receivedAt: at(10) },
      { ...delivery('c'), connector: 'other', receivedAt: at(10) },
    ]);
    journal.settle([], journal.pending(['sample', 'other'], 0, 10).map((d) => ({ seq: d.seq, error: 'bad' })));
    const before = at(7);
    expect(journal.prune({ before, status: 'done', limit: 100 })).toBe(0);
    expect(journal.prune({ before, status: 'dead', limit: 100, connector: 'other' })).toBe(1);
    expect(journal.prune({ before, status: 'dead', limit: 1 })).toBe(1);
    expect(journal.select({}).map((d) => d.deliveryId)).toEqual(['b']);
    journal.close();
  });

  it('reads durations', () => {
    expect(parseDurationMs('7d')).toBe(7 * DAY);
    expect(parseDurationMs(' 90m ')).toBe(90 * 60_000);
    expect(parseDurationMs('2w')).toBe(14 * DAY);
    expect(parseDurationMs('7')).toBeUndefined();
    expect(parseDurationMs('-1d')).toBeUndefined();
  });
});

describe('mapping a delivery into records', () => {
  const mapper = new WebhookMapper(sample);
  const stored = (body: unknown, seq = 1) => ({
    ...delivery(`m${seq}`, JSON.stringify(body)),
    seq,
    status: 'pending' as const,
    error: null,
    attempts: 0,
    processedAt: null,
  });
  const customer = {
    id: 7,
    email: 'a@b.c',
    name: 'A',
    company: null,
    country: 'DE',
    plan: 'pro',
    tags: [],
    address: { street: 's', city: 'c', postal_code: 'p', country: 'DE' },
    lifetime_value: 1.5,
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-02-01T00:00:00.000Z',
    _sdc_deleted_at: null,
  };

  it('gives records of the connector stream, unchanged', () => {
    const result = mapper.map(stored({ type: 'customers.updated', timestamp: '2025-02-01T00:00:01Z', data: customer }));
    expect(result).toEqual({ ok: true, records: [{ type: 'RECORD', stream: 'customers', record: customer }] });
  });

  it('a body nested past the limit is a dead letter saying so, not "not a JSON object" alone', () => {
    const deep = { ...stored({}), body: Buffer.from('{"type":"customers.updated","data":' + '['.repeat(2_000) + ']'.repeat(2_000) + '}') };
    const result = mapper.map(deep);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^mapping failed: the body is not a JSON object \(the body is not JSON that can be read: .*nesting deeper than 1000 levels/);
  });

  it('takes the event time as the version when the object has none', () => {
    const { updated_at: _omitted, ...withoutVersion } = customer;
    const result = mapper.map(stored({ type: 'customers.updated', timestamp: '2025-03-01T00:00:00Z', data: withoutVersion }));
    expect(result.ok && result.records[0]?.record['updated_at']).toBe('2025-03-01T00:00:00Z');
  });

  it('stamps a deletion and raises its version to the deletion time', () => {
    const record = withVersion({ stream: 'customers', record: customer, deleted: true, version: '2025-03-01T00:00:00Z' }, 'updated_at', '2025-03-02T00:00:00Z');
    expect(record['_sdc_deleted_at']).toBe('2025-03-01T00:00:00Z');
    expect(record['updated_at']).toBe('2025-03-01T00:00:00Z');
    const already = withVersion({ stream: 'customers', record: { ...customer, updated_at: '2025-04-01T00:00:00Z' }, deleted: true }, 'updated_at', '2025-03-02T00:00:00Z');
    expect(already['_sdc_deleted_at']).toBe('2025-03-02T00:00:00Z');
    expect(already['updated_at']).toBe('2025-04-01T00:00:00Z');
  });

  it('refuses what it cannot use, saying why', () => {
    expect(mapper.map(stored('not an object'))).toMatchObject({ ok: false, error: /mapping failed: the body is not a JSON object/ });
    expect(mapper.map(stored({ type: 'customers.exploded', data: customer }))).toMatchObject({ ok: false, error: /"type" must be/ });
    expect(mapper.map(stored({ type: 'customers.updated', data: { ...customer, id: 'seven' } }))).toMatchObject({
      ok: false,
      error: /RECORD of stream "customers" is invalid: id must be integer/,
    });
    expect(mapper.map(stored({ type: 'customers.updated', data: { ...customer, id: null } }))).toMatchObject({ ok: false, error: /key property "id" is missing/ });
  });
});
