import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewDelivery } from '../../src/listen/journal.js';
import { openDrainJournal, openJournalStore, type DrainJournal, type JournalStore } from '../../src/listen/journal-store.js';
import { parsePostgresUrl } from '../../src/targets/postgres-url.js';
import { postgresAvailable, quote, testSchema, type TestSchema } from '../helpers/postgres.js';
import { until } from '../helpers/wait.js';

/**
 * The journal in PostgreSQL, in this process against the real server: created by many at
 * once, deduplicated across replicas, bytes kept exactly, deliveries claimed by one drain at
 * a time and taken over when a drain's session dies.
 */

const available = await postgresAvailable('test/postgres/journal.test.ts');

function delivery(id: string, extra: Partial<NewDelivery> = {}): NewDelivery {
  return {
    connector: 'sample',
    deliveryId: id,
    receivedAt: '2026-03-01T00:00:00.000000Z',
    event: 'customer.updated',
    method: 'POST',
    url: '/webhooks/sample',
    headers: { 'content-type': ['application/json'] },
    body: Buffer.from(`{"id":"${id}"}`),
    ...extra,
  };
}

describe.skipIf(!available)('the PostgreSQL journal', () => {
  let schema: TestSchema;
  const opened: Array<{ close(): Promise<void> }> = [];
  beforeEach(async () => {
    schema = await testSchema('sync_journal');
  });
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.close();
    await schema.drop();
  });
  const location = (): { kind: 'postgres' } & ReturnType<typeof parsePostgresUrl> => ({ kind: 'postgres', ...parsePostgresUrl(schema.url) });
  const store = async (): Promise<JournalStore> => {
    const s = await openJournalStore(location(), {});
    opened.push(s);
    return s;
  };
  const drain = async (): Promise<DrainJournal> => {
    const d = await openDrainJournal(location());
    opened.push(d);
    return d;
  };

  it('is created by several replicas starting at once, none failing', async () => {
    const stores = await Promise.all(Array.from({ length: 6 }, () => store()));
    expect(stores).toHaveLength(6);
    const tables = await schema.query<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tablename = '_sync_journal'`, [schema.name]);
    expect(tables[0]?.n).toBe('1');
  });

  it('stores a delivery id once across replicas and within a batch, in arrival order', async () => {
    const [a, b] = [await store(), await store()];
    expect(await a.append([delivery('x'), delivery('y'), delivery('x')])).toEqual(['stored', 'stored', 'duplicate']);
    expect(await b.append([delivery('y'), delivery('z'), { ...delivery('x'), connector: 'other' }])).toEqual(['duplicate', 'stored', 'stored']);
    // The same ids sent to both replicas at the same moment: each stored by exactly one.
    const racing = Array.from({ length: 50 }, (_, i) => delivery(`race-${i}`));
    const [fromA, fromB] = await Promise.all([a.append(racing), b.append(racing)]);
    for (let i = 0; i < racing.length; i++) expect([fromA[i], fromB[i]].sort()).toEqual(['duplicate', 'stored']);
    const all = await a.select({ connector: 'sample' });
    expect(all.map((d) => d.deliveryId).slice(0, 3)).toEqual(['x', 'y', 'z']);
    expect(all).toHaveLength(53);
  });

  it('writes a group commit of large bodies in parts, keeping order and outcomes across them', async () => {
    const s = await store();
    const big = (fill: number): Buffer => Buffer.alloc(20 * 1_048_576, fill);
    const batch = [delivery('p1', { body: big(1) }), delivery('p2', { body: big(2) }), delivery('p1', { body: big(3) }), delivery('p3', { body: big(4) })];
    expect(await s.append(batch)).toEqual(['stored', 'stored', 'duplicate', 'stored']);
    const stored = await s.select({});
    expect(stored.map((d) => [d.deliveryId, d.body.length, d.body[0]])).toEqual([
      ['p1', 20 * 1_048_576, 1],
      ['p2', 20 * 1_048_576, 2],
      ['p3', 20 * 1_048_576, 4],
    ]);
  });

  it('keeps body bytes exactly and stores a NUL in text as U+FFFD', async () => {
    const s = await store();
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x00, 0x22, 0xc3]);
    expect(await s.append([delivery('nul\0id', { event: 'evil\0event', body: bytes, headers: { 'x-a': ['1', '2'] } })])).toEqual(['stored']);
    const [stored] = await s.select({});
    expect(stored?.body.equals(bytes)).toBe(true);
    expect(stored?.deliveryId).toBe('nul\uFFFDid');
    expect(stored?.event).toBe('evil\uFFFDevent');
    expect(stored?.headers).toEqual({ 'x-a': ['1', '2'] });
    // A redelivery of the same id is still recognised.
    expect(await s.append([delivery('nul\0id')])).toEqual(['duplicate']);
  });

  it('gives each pending delivery to one drain at a time; settling marks it once', async () => {
    const s = await store();
    await s.append(Array.from({ length: 10 }, (_, i) => delivery(`d${i}`)));
    const [first, second] = [await drain(), await drain()];
    const a = await first.claim(['sample'], 6);
    const b = await second.claim(['sample'], 6);
    expect(a.map((d) => d.deliveryId)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
    expect(b.map((d) => d.deliveryId)).toEqual(['d6', 'd7', 'd8', 'd9']);
    await first.settle(
      a.slice(1).map((d) => d.seq),
      [{ seq: a[0]?.seq ?? 0, error: 'bad\0mapping' }],
    );
    // Released without settling: pending again, for whichever drain asks next.
    await second.release();
    const again = await first.claim(['sample'], 100);
    expect(again.map((d) => d.deliveryId)).toEqual(['d6', 'd7', 'd8', 'd9']);
    await first.settle(
      again.map((d) => d.seq),
      [],
    );
    expect(await s.counts()).toEqual({ pending: 0, done: 9, dead: 1 });
    const rows = await s.select({});
    expect(rows.map((d) => d.attempts)).toEqual(Array(10).fill(1));
    expect(rows[0]?.error).toBe('bad\uFFFDmapping');
    expect(await first.claim(['sample'], 100)).toEqual([]);
  });

  it("takes over a claim whose drain's session died, and not before", async () => {
    const s = await store();
    await s.append(Array.from({ length: 4 }, (_, i) => delivery(`k${i}`)));
    const doomed = await drain();
    const held = await doomed.claim(['sample'], 10);
    expect(held).toHaveLength(4);
    const survivor = await drain();
    expect(await survivor.claim(['sample'], 10)).toEqual([]);
    // The server ends the doomed drain's session, as when its process is killed.
    const admin = new pg.Client({ connectionString: schema.url });
    await admin.connect();
    try {
      // Only this test's drain: its last statement, the claim, names this test's schema.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sync drain' AND state = 'idle in transaction' AND strpos(query, $1) > 0`,
        [quote(schema.name)],
      );
    } finally {
      await admin.end();
    }
    let taken: Awaited<ReturnType<DrainJournal['claim']>> = [];
    await until(async () => (taken = await survivor.claim(['sample'], 10)).length === 4, 'the claim to be taken over');
    await survivor.settle(
      taken.map((d) => d.seq),
      [],
    );
    // The doomed drain's own settle fails: it never marks what it no longer holds.
    await expect(doomed.settle(held.map((d) => d.seq), [])).rejects.toThrow();
    expect((await s.select({})).map((d) => [d.status, d.attempts])).toEqual(Array(4).fill(['done', 1]));
  });

  it('prunes only old done deliveries', async () => {
    const s = await store();
    await s.append([delivery('old', { receivedAt: '2026-01-01T00:00:00.000000Z' }), delivery('new', { receivedAt: '2026-03-01T00:00:00.000000Z' }), delivery('old-pending', { receivedAt: '2026-01-01T00:00:00.000000Z' })]);
    const d = await drain();
    const claimed = await d.claim(['sample'], 2);
    await d.settle(
      claimed.map((c) => c.seq),
      [],
    );
    expect(await s.prune({ before: '2026-02-01T00:00:00.000000Z', status: 'done', limit: 10 })).toBe(1);
    expect((await s.select({})).map((x) => x.deliveryId)).toEqual(['new', 'old-pending']);
    expect(await s.pendingCount(['sample'])).toBe(1);
    expect(await s.backlog()).toEqual([{ connector: 'sample', status: 'pending', n: 1, oldest: '2026-01-01T00:00:00.000000Z' }]);
  });
});
