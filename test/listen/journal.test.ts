import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import sample from '../../connectors/sample/index.js';
import { Journal, type NewDelivery } from '../../src/listen/journal.js';
import { JournalUnavailable, JournalWriter } from '../../src/listen/journal-writer.js';
import { WebhookMapper, withVersion } from '../../src/listen/mapping.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir('sync-journal-');
afterAll(tmp.cleanup);
let n = 0;
const journalPath = (): string => join(tmp.dir, `journal-${++n}.db`);

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
    const writer = new JournalWriter(journal, { maxQueued: 1_000, maxQueuedBytes: 1 << 20 }, () => woken++);
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
    const writer = new JournalWriter(journal, { maxQueued: 5, maxQueuedBytes: 1 << 20 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => writer.append(delivery(`d${i}`))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(3);
    expect(refused.every((r) => r.reason instanceof JournalUnavailable)).toBe(true);
    expect(journal.counts().pending).toBe(5);
    journal.close();
  });

  it('rejects every waiting delivery when the commit fails, and says so until one succeeds', async () => {
    const journal = new Journal(journalPath());
    const writer = new JournalWriter(journal, { maxQueued: 10, maxQueuedBytes: 1 << 20 });
    journal.close();
    const results = await Promise.allSettled([writer.append(delivery('a')), writer.append(delivery('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(writer.lastError).toBeInstanceOf(JournalUnavailable);
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
