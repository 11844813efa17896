import { describe, expect, it } from 'vitest';
import { eachRecord } from '../../src/connector/contract.js';
import { UsageError } from '../../src/errors.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { config, context, instant, readAll, stream, type StreamName } from './helpers.js';

/** A keyed target: a record replaces the stored one unless the stored one is newer. */
function upsert(table: Map<number, JsonObject>, records: readonly JsonObject[]): void {
  for (const record of records) {
    const id = record['id'] as number;
    const stored = table.get(id);
    if (!stored || instant(record['updated_at']) >= instant(stored['updated_at'])) table.set(id, record);
  }
}

function rows(table: Map<number, JsonObject>): JsonObject[] {
  return [...table.entries()].sort(([a], [b]) => a - b).map(([, record]) => record);
}

const PAIRS: readonly (readonly [string, string])[] = [
  ['2025-01-20T08:00:00Z', '2025-01-27T08:00:00Z'],
  ['2025-03-15T10:30:00Z', '2025-03-15T18:45:00Z'],
  ['2025-06-01T00:00:00Z', '2025-12-31T23:59:59.999Z'],
  ['2025-12-01T00:00:00Z', '2026-02-01T00:00:00Z'],
  ['2026-01-01T00:00:00Z', '2027-06-01T00:00:00Z'],
];

const BOOKMARK_FORMS: Record<string, (iso: string) => string> = {
  milliseconds: (iso) => iso,
  microseconds: (iso) => iso.replace('Z', '000Z'),
  'an offset of +00:00': (iso) => iso.replace('Z', '+00:00'),
};

describe('sample incremental reads', () => {
  for (const seed of [1, 7, 2024]) {
    for (const [t1, t2] of PAIRS) {
      it(`full at ${t1} then incremental at ${t2} equals full at ${t2} (seed ${seed})`, async () => {
        for (const name of ['customers', 'orders'] as const) {
          const first = await readAll(name, config({ seed, customers: 300, orders: 1500, now: t1 }));
          const later = config({ seed, customers: 300, orders: 1500, now: t2 });
          const expected = rows(new Map((await readAll(name, later)).map((r) => [r['id'] as number, r])));
          const bookmark = first.at(-1)?.['updated_at'];
          expect(typeof bookmark).toBe('string');
          for (const [form, write] of Object.entries(BOOKMARK_FORMS)) {
            const table = new Map<number, JsonObject>();
            upsert(table, first);
            upsert(table, await readAll(name, later, write(bookmark as string)));
            expect(rows(table), `${name}, bookmark in ${form}`).toEqual(expected);
          }
        }
      });
    }
  }

  for (const name of ['customers', 'orders'] as const satisfies readonly StreamName[]) {
    it(`returns only ${name} updated at or after the bookmark, the bookmark itself included`, async () => {
      const cfg = config({ seed: 13, customers: 500, orders: 2500, now: '2025-10-01T00:00:00Z' });
      const full = await readAll(name, cfg);
      const pivot = full[Math.floor(full.length / 2)] as JsonObject;
      const bookmark = pivot['updated_at'] as string;
      const since = await readAll(name, cfg, bookmark);
      expect(since).toEqual(full.filter((r) => instant(r['updated_at']) >= instant(bookmark)));
      expect(since).toContainEqual(pivot);
      // Re-reading from the last bookmark repeats only the boundary records.
      const last = full.at(-1) as JsonObject;
      const repeat = await readAll(name, cfg, last['updated_at']);
      expect(repeat).toContainEqual(last);
      for (const r of repeat) expect(r['updated_at']).toBe(last['updated_at']);
    });
  }

  it('compares bookmarks as instants, whatever the offset', async () => {
    const cfg = config({ seed: 3, now: '2025-08-01T00:00:00Z' });
    const utc = await readAll('customers', cfg, '2025-05-01T10:00:00Z');
    expect(utc.length).toBeGreaterThan(0);
    expect(await readAll('customers', cfg, '2025-05-01T12:00:00+02:00')).toEqual(utc);
    expect(await readAll('customers', cfg, '2025-05-01T10:00:00.000000Z')).toEqual(utc);
  });

  it('refuses a bookmark that is not a date-time', async () => {
    await expect(readAll('orders', config({ now: '2026-01-01T00:00:00Z' }), 'yesterday')).rejects.toThrow(UsageError);
    await expect(readAll('orders', config({ now: '2026-01-01T00:00:00Z' }), 42)).rejects.toThrow(/bookmark of stream orders/);
  });

  it('stops soon after the signal is aborted', async () => {
    const controller = new AbortController();
    const cfg = config({ orders: 100_000, now: '2026-01-01T00:00:00Z' });
    let count = 0;
    for await (const _record of eachRecord(stream('orders').read(context(cfg, { signal: controller.signal })))) {
      if (++count === 10) controller.abort();
    }
    expect(count).toBeGreaterThanOrEqual(10);
    expect(count).toBeLessThanOrEqual(1000);
  });

  it('yields nothing when aborted before it starts', async () => {
    const controller = new AbortController();
    controller.abort();
    const records: JsonObject[] = [];
    for await (const r of eachRecord(stream('customers').read(context(config({ now: '2026-01-01T00:00:00Z' }), { signal: controller.signal })))) {
      records.push(r);
    }
    expect(records).toEqual([]);
  });
});
