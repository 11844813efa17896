import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { ShopifyModel, type Webhook } from './model.js';
import { until } from '../helpers/wait.js';
import { readRows, writeConfig } from '../helpers/files.js';
import { mapShopifyDelivery } from '../../connectors/shopify/webhooks.js';
import { parseJson } from '../../src/protocol/json.js';

/** `sync listen shopify` with deliveries built and signed as Shopify does, beside `sync run shopify`. */

const TOKEN = 'shpat_0123456789abcdef0123456789abcdef';
const SECRET = 'shpss_model_client_secret_42';

let tmp: ReturnType<typeof tempDir>;
let model: ShopifyModel;
beforeEach(async () => {
  tmp = tempDir('sync-shopify-listen-');
  model = await new ShopifyModel(TOKEN, SECRET).start();
});
afterEach(async () => {
  await model.close();
  tmp.cleanup();
});

function configFile(): string {
  return writeConfig(tmp.dir, 'shopify', { shop: 'acme.myshopify.com', access_token: TOKEN, client_secret: SECRET, base_url: model.url });
}

const rows = (db: string, sql: string): Array<Record<string, unknown>> => readRows(join(tmp.dir, db), sql);

/** A row as the object it holds: `_sdc_table_version` says which full read last saw it, not what it is. */
const row = (db: string, table: string, id: bigint) => {
  const found = rows(db, `SELECT * FROM ${table} WHERE CAST(id AS TEXT) = '${id}'`)[0];
  if (found === undefined) return undefined;
  const { _sdc_table_version: _seenBy, _sync_run_version: _runMark, ...object } = found;
  return object;
};

async function listen(db: string) {
  return startListen(['shopify', '--config', configFile(), '--journal', join(tmp.dir, `${db}.inbox`), '--target', `sqlite:${join(tmp.dir, db)}`], { cwd: tmp.dir });
}

async function post(url: string, hook: Webhook, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/webhooks/shopify`, { method: 'POST', headers: { ...hook.headers, ...headers }, body: hook.body });
  return { status: response.status, text: await response.text() };
}

describe('sync listen shopify', () => {
  it('gives every object the row sync run gives it, field by field', async () => {
    const ann = model.addCustomer('Ann', 'Lee', 'ann@example.com');
    const shirt = model.addProduct('Linen Shirt', ['49.50', '55.00']);
    const order = model.addOrder(ann, [{ product: shirt, variant: 1, quantity: 2 }, { product: shirt, variant: 0, quantity: 1 }]);
    model.touch(order, { fulfillment: 'PARTIALLY_FULFILLED', financial: 'PARTIALLY_REFUNDED', tags: ['gift', 'rush'], note: 'leave at door' });
    model.touch(ann, { phone: '+15555550100', note: 'VIP' });
    // Through the bulk path, and through paging (a second database read from an early bookmark).
    expect((await runSync(['run', 'shopify', '--config', configFile(), '--target', `sqlite:${join(tmp.dir, 'batch.db')}`], { cwd: tmp.dir })).code).toBe(0);
    const state = join(tmp.dir, 'state.json');
    const early = { replication_key: 'updated_at', replication_key_value: '2026-01-01T00:00:00Z' };
    writeFileSync(state, JSON.stringify({ bookmarks: { orders: early, customers: early, products: early } }));
    const paged = await runSync(['run', 'shopify', '--config', configFile(), '--state', state, '--target', `sqlite:${join(tmp.dir, 'paged.db')}`], { cwd: tmp.dir });
    expect(paged.code, paged.stderr).toBe(0);
    expect(model.searches.length).toBeGreaterThan(0);

    const listener = await listen('hooks.db');
    try {
      for (const hook of [model.webhook('customers/update', ann), model.webhook('products/update', shirt), model.webhook('orders/updated', order)]) {
        expect((await post(listener.url, hook)).status).toBe(200);
      }
      await until(() => row('hooks.db', 'orders', order.id) !== undefined && row('hooks.db', 'customers', ann.id) !== undefined && row('hooks.db', 'products', shirt.id) !== undefined);
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
    for (const [table, id] of [['orders', order.id], ['customers', ann.id], ['products', shirt.id]] as const) {
      const fromBulk = row('batch.db', table, id);
      expect(fromBulk, `${table} from the bulk read`).toBeDefined();
      expect(row('paged.db', table, id), `${table} from the paged read`).toEqual(fromBulk);
      expect(row('hooks.db', table, id), `${table} from the webhook`).toEqual(fromBulk);
    }
    expect(row('hooks.db', 'orders', order.id)).toMatchObject({ fulfillment_status: 'partial', financial_status: 'partially_refunded', tags: '["gift","rush"]' });
  }, 60_000);

  it('verifies the signature, stores a redelivery once, and keeps the newest version', async () => {
    const ann = model.addCustomer('Ann', 'Lee', 'ann@example.com');
    const created = model.webhook('customers/create', ann);
    model.touch(ann, { firstName: 'Anne' });
    const newer = model.webhook('customers/update', ann);
    const listener = await listen('order.db');
    try {
      // A body signed with another secret, or changed after signing, is refused.
      const forged = await post(listener.url, { ...newer, body: newer.body.replace('Anne', 'Mallory') });
      expect(forged.status).toBe(401);
      expect((await post(listener.url, newer)).status).toBe(200);
      // Shopify retries with the same event id: stored once.
      const again = await post(listener.url, newer);
      expect(again.status).toBe(200);
      expect(again.text).toMatch(/duplicate/);
      // The same event delivered by another subscription (another webhook id): still one change.
      const otherSubscription = await post(listener.url, newer, { 'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-999999999999' });
      expect(otherSubscription.status).toBe(200);
      expect(otherSubscription.text).toMatch(/duplicate/);
      // The create arrives late: older than the row, it changes nothing.
      expect((await post(listener.url, created)).status).toBe(200);
      await until(async () => {
        const list = await runSync(['inbox', 'list', '--journal', join(tmp.dir, 'order.db.inbox'), '--status', 'done', '--format', 'json'], { cwd: tmp.dir });
        return list.stdout.trim().split('\n').filter((l) => l !== '').length === 2;
      });
      expect(row('order.db', 'customers', ann.id)).toMatchObject({ first_name: 'Anne', updated_at: ann.updatedAt, _sdc_deleted_at: null });
      const inbox = await runSync(['inbox', 'list', '--journal', join(tmp.dir, 'order.db.inbox'), '--format', 'json'], { cwd: tmp.dir });
      expect(inbox.stdout.trim().split('\n')).toHaveLength(2);
    } finally {
      listener.child.kill('SIGTERM');
      const done = await listener.done;
      expect(done.stderr).not.toContain(SECRET);
    }
  }, 60_000);

  it('an "Events" delivery (headers without X-) is verified, deduplicated by Shopify-Event-Id, named by Shopify-Topic and deleted at Shopify-Triggered-At', async () => {
    const ann = model.addCustomer('Ann', 'Lee', 'ann@example.com');
    const update = model.asEventsDelivery(model.webhook('customers/update', ann));
    const deletion = model.asEventsDelivery(model.deletion('customers/delete', ann.id));
    expect(Object.keys(update.headers).filter((h) => h.startsWith('x-'))).toEqual([]);
    const listener = await listen('events.db');
    try {
      expect((await post(listener.url, { ...update, body: update.body.replace('Ann', 'Mallory') })).status).toBe(401);
      expect((await post(listener.url, update)).status).toBe(200);
      // The same event from another subscription: another Shopify-Webhook-Id, the same Shopify-Event-Id.
      const otherSubscription = await post(listener.url, update, { 'shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-999999999999' });
      expect(otherSubscription.status).toBe(200);
      expect(otherSubscription.text).toMatch(/duplicate/);
      expect((await post(listener.url, deletion)).status).toBe(200);
      await until(() => row('events.db', 'customers', ann.id)?.['_sdc_deleted_at'] != null);
      const inbox = await runSync(['inbox', 'list', '--journal', join(tmp.dir, 'events.db.inbox'), '--format', 'json'], { cwd: tmp.dir });
      const stored = inbox.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; event: string | null });
      expect(stored.map((d) => [d.id, d.event])).toEqual([
        [update.headers['shopify-event-id'], 'customers/update'],
        [deletion.headers['shopify-event-id'], 'customers/delete'],
      ]);
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
    expect(row('events.db', 'customers', ann.id)).toMatchObject({ email: 'ann@example.com', _sdc_deleted_at: deletion.headers['shopify-triggered-at'] });
  }, 60_000);

  it('create, update and delete topics: a delete marks the row deleted and keeps its other columns', async () => {
    const mug = model.addProduct('Mug', ['12.00']);
    const bob = model.addCustomer('Bob', 'Ray', 'bob@example.com');
    const order = model.addOrder(bob, [{ product: mug, variant: 0, quantity: 1 }]);
    const listener = await listen('life.db');
    let deletions: Webhook[];
    try {
      for (const hook of [model.webhook('products/create', mug), model.webhook('customers/create', bob), model.webhook('orders/create', order)]) {
        expect((await post(listener.url, hook)).status).toBe(200);
      }
      model.touch(mug, { title: 'Big Mug' });
      expect((await post(listener.url, model.webhook('products/update', mug))).status).toBe(200);
      deletions = [model.deletion('orders/delete', order.id), model.deletion('customers/delete', bob.id), model.deletion('products/delete', mug.id)];
      for (const hook of deletions) expect((await post(listener.url, hook)).status).toBe(200);
      // A topic the connector has no stream for is acknowledged and ignored.
      expect((await post(listener.url, { ...model.deletion('collections/delete', 1n) })).status).toBe(200);
      await until(() => row('life.db', 'products', mug.id)?.['_sdc_deleted_at'] != null && row('life.db', 'orders', order.id)?.['_sdc_deleted_at'] != null && row('life.db', 'customers', bob.id)?.['_sdc_deleted_at'] != null);
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
    expect(row('life.db', 'products', mug.id)).toMatchObject({ title: 'Big Mug', status: 'active' });
    expect(row('life.db', 'orders', order.id)).toMatchObject({ name: '#1001', total_price: '17.00' });
    expect(row('life.db', 'customers', bob.id)).toMatchObject({ email: 'bob@example.com' });
    // Deleted at the event's time (X-Shopify-Triggered-At).
    expect(row('life.db', 'orders', order.id)?.['_sdc_deleted_at']).toBe(deletions[0]?.headers['x-shopify-triggered-at']);
  }, 60_000);
});

describe('mapShopifyDelivery', () => {
  it('reads the topic and the time from the unprefixed family when a delivery has both, as the signature is checked', () => {
    const model = new ShopifyModel(TOKEN, SECRET);
    const legacy = model.deletion('customers/delete', 7n, '2026-02-01T00:00:00Z');
    const events = model.asEventsDelivery(model.deletion('orders/delete', 7n, '2026-03-01T00:00:00Z'));
    const delivery = (headers: Record<string, string>) => ({ id: 'd', receivedAt: '2026-04-01T00:00:00Z', headers, text: legacy.body, json: parseJson(legacy.body).value });
    expect(mapShopifyDelivery(delivery({ ...legacy.headers, ...events.headers }))).toMatchObject([{ stream: 'orders', time: '2026-03-01T00:00:00.000Z', deleted: true }]);
    expect(mapShopifyDelivery(delivery(legacy.headers))).toMatchObject([{ stream: 'customers', time: '2026-02-01T00:00:00.000Z', deleted: true }]);
  });
});
