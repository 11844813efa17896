import AjvModule from 'ajv';
import { describe, expect, it } from 'vitest';
import sample from '../../connectors/sample/index.js';
import { eachRecord } from '../../src/connector/contract.js';
import { parseInstant } from '../../src/protocol/instant.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { config, context, ids, instant, readAll, stream } from './helpers.js';

const Ajv = AjvModule.default;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('sample connector definition', () => {
  it('declares two sorted incremental streams keyed by id', () => {
    expect(sample.name).toBe('sample');
    expect(sample.version).toBe('0.1.0');
    expect(sample.streams.map((s) => s.name)).toEqual(['customers', 'orders']);
    for (const s of sample.streams) {
      expect(s.keyProperties).toEqual(['id']);
      expect(s.replicationKey).toBe('updated_at');
      expect(s.sorted).toBe(true);
    }
  });

  it('documents every setting and leaves now without a default', () => {
    const { properties } = sample.config;
    expect(Object.keys(properties).sort()).toEqual(['customers', 'now', 'orders', 'seed', 'webhook_secret']);
    for (const p of Object.values(properties)) expect(p.description.length).toBeGreaterThan(20);
    expect(properties['seed']?.default).toBe(1);
    expect(properties['customers']?.default).toBe(100);
    expect(properties['orders']?.default).toBe(500);
    expect(properties['now']?.default).toBeUndefined();
    expect(properties['now']?.format).toBe('date-time');
  });
});

describe('sample records', () => {
  const now = '2026-06-01T00:00:00Z';

  it('are a pure function of the config', async () => {
    const cfg = config({ seed: 5, now });
    expect(await readAll('orders', cfg)).toEqual(await readAll('orders', cfg));
    expect(await readAll('customers', cfg)).toEqual(await readAll('customers', cfg));
    expect(await readAll('customers', { ...cfg, seed: 6 })).not.toEqual(await readAll('customers', cfg));
    expect(await readAll('orders', { ...cfg, seed: 6 })).not.toEqual(await readAll('orders', cfg));
  });

  for (const at of ['2025-04-10T12:00:00Z', now]) {
    it(`validate, stay at or before now and come sorted and unique (now = ${at})`, async () => {
      const ajv = new Ajv({ strict: false });
      ajv.addFormat('date-time', (text: string) => parseInstant(text) !== undefined);
      const cfg = config({ seed: 3, customers: 400, orders: 2000, now: at });
      const nowMicros = instant(at);
      const byStream: Record<string, JsonObject[]> = {};
      for (const name of ['customers', 'orders'] as const) {
        const validate = ajv.compile(stream(name).schema);
        const records = await readAll(name, cfg);
        byStream[name] = records;
        expect(records.length).toBeGreaterThan(0);
        expect(new Set(ids(records)).size).toBe(records.length);
        let previous: [number, number] = [Number.NEGATIVE_INFINITY, 0];
        for (const record of records) {
          expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
          for (const field of ['created_at', 'updated_at']) expect(record[field]).toMatch(RFC3339_UTC);
          const updated = instant(record['updated_at']);
          expect(updated).toBeLessThanOrEqual(nowMicros);
          expect(instant(record['created_at'])).toBeLessThanOrEqual(updated);
          const key: [number, number] = [updated, record['id'] as number];
          expect(key[0] > previous[0] || (key[0] === previous[0] && key[1] > previous[1])).toBe(true);
          previous = key;
        }
      }
      const customers = new Map((byStream['customers'] ?? []).map((c) => [c['id'], c]));
      for (const order of byStream['orders'] ?? []) {
        const customer = customers.get(order['customer_id']);
        expect(customer, `customer of order ${String(order['id'])}`).toBeDefined();
        expect(instant(customer?.['created_at'])).toBeLessThanOrEqual(instant(order['created_at']));
      }
    });
  }

  it('give orders 1-5 line items that add up to the total', async () => {
    const orders = await readAll('orders', config({ seed: 9, orders: 1000, now }));
    const statuses = new Set<unknown>();
    for (const order of orders) {
      statuses.add(order['status']);
      expect(['USD', 'EUR', 'GBP']).toContain(order['currency']);
      const items = order['line_items'] as JsonObject[];
      expect(items.length).toBeGreaterThanOrEqual(1);
      expect(items.length).toBeLessThanOrEqual(5);
      let cents = 0;
      for (const item of items) {
        const price = item['unit_price'] as number;
        expect(Number.isInteger(item['quantity'])).toBe(true);
        expect(Math.round(price * 100) / 100).toBe(price);
        cents += Math.round(price * 100) * (item['quantity'] as number);
      }
      expect(order['total']).toBe(cents / 100);
    }
    // Long after 2025 every order has settled: delivered or cancelled.
    expect([...statuses].sort()).toEqual(['cancelled', 'delivered']);
  });

  it('show orders in every status and customers with several versions during 2025', async () => {
    const cfg = config({ seed: 2, customers: 500, orders: 3000, now: '2025-09-01T00:00:00Z' });
    const statuses = new Set((await readAll('orders', cfg)).map((o) => o['status']));
    expect([...statuses].sort()).toEqual(['cancelled', 'delivered', 'paid', 'pending', 'shipped']);
    const customers = await readAll('customers', cfg);
    const changed = customers.filter((c) => c['updated_at'] !== c['created_at'] && c['_sdc_deleted_at'] === null);
    expect(changed.length).toBeGreaterThan(customers.length / 2);
    expect(new Set(customers.map((c) => c['plan'])).size).toBeGreaterThan(2);
  });

  it('count exactly the configured objects once 2025 is over, and a subset before', async () => {
    const later = config({ seed: 4, customers: 250, orders: 1200, now: '2026-06-01T00:00:00Z' });
    const earlier = { ...later, now: '2025-06-01T00:00:00Z' };
    for (const [name, total] of [['customers', 250], ['orders', 1200]] as const) {
      const all = ids(await readAll(name, later));
      expect(all.length).toBe(total);
      expect(new Set(all)).toEqual(new Set(Array.from({ length: total }, (_, i) => i + 1)));
      const some = ids(await readAll(name, earlier));
      expect(some.length).toBeGreaterThan(0);
      expect(some.length).toBeLessThan(total);
      const allSet = new Set(all);
      for (const id of some) expect(allSet.has(id)).toBe(true);
    }
  });

  it('is empty before the account opened and with zero counts', async () => {
    expect(await readAll('customers', config({ now: '2024-12-31T23:59:59Z' }))).toEqual([]);
    expect(await readAll('orders', config({ customers: 0, orders: 0, now }))).toEqual([]);
  });

  it('makes guest orders when there are no customers', async () => {
    const orders = await readAll('orders', config({ customers: 0, orders: 50, now }));
    expect(orders).toHaveLength(50);
    for (const order of orders) expect(order['customer_id']).toBeNull();
  });

  it('marks deletions with _sdc_deleted_at equal to updated_at, never after now', async () => {
    const cfg = config({ seed: 11, customers: 2000, orders: 4000, now: '2026-03-01T00:00:00Z' });
    const nowMicros = instant(cfg.now);
    for (const name of ['customers', 'orders'] as const) {
      const records = await readAll(name, cfg);
      const deleted = records.filter((r) => r['_sdc_deleted_at'] !== null);
      // About 3% of customers and 2% of orders.
      expect(deleted.length).toBeGreaterThan(records.length * 0.01);
      expect(deleted.length).toBeLessThan(records.length * 0.05);
      for (const record of deleted) {
        expect(record['_sdc_deleted_at']).toBe(record['updated_at']);
        expect(instant(record['_sdc_deleted_at'])).toBeLessThanOrEqual(nowMicros);
      }
    }
  });

  it('uses the run start as now when none is configured', async () => {
    const startedAt = new Date('2025-05-01T00:00:00Z');
    const records: JsonObject[] = [];
    for await (const r of eachRecord(stream('customers').read(context(config({}), { startedAt })))) records.push(r);
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThan(100);
    for (const r of records) expect(instant(r['updated_at'])).toBeLessThanOrEqual(startedAt.getTime() * 1000);
  });
});
