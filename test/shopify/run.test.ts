import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';
import { ShopifyModel, type Customer, type Order, type Product } from './model.js';
import { readRows, writeConfig } from '../helpers/files.js';

/** `sync run shopify` against the local model of a Shopify store. */

const TOKEN = 'shpat_0123456789abcdef0123456789abcdef';
const SECRET = 'shpss_model_client_secret_42';

let tmp: ReturnType<typeof tempDir>;
let model: ShopifyModel;
let ann: Customer;
let bob: Customer;
let shirt: Product;
let mug: Product;
let first: Order;
beforeEach(async () => {
  tmp = tempDir('sync-shopify-');
  model = await new ShopifyModel(TOKEN, SECRET).start();
  ann = model.addCustomer('Ann', 'Lee', 'ann@example.com');
  bob = model.addCustomer('Bob', 'Ray', 'bob@example.com');
  shirt = model.addProduct('Linen Shirt', ['49.50', '55.00']);
  mug = model.addProduct('Mug', ['12.00']);
  first = model.addOrder(ann, [{ product: shirt, variant: 1, quantity: 2 }, { product: mug, variant: 0, quantity: 1 }]);
  model.addOrder(bob, [{ product: mug, variant: 0, quantity: 3 }]);
});
afterEach(async () => {
  await model.close();
  tmp.cleanup();
});

function configFile(extra: object = {}): string {
  return writeConfig(tmp.dir, 'shopify', { shop: 'acme.myshopify.com', access_token: TOKEN, base_url: model.url, ...extra });
}

const run = (db: string, extra: object = {}, args: string[] = []) =>
  runSync(['run', 'shopify', '--config', configFile(extra), '--target', `sqlite:${join(tmp.dir, db)}`, ...args], { cwd: tmp.dir });

const rows = (db: string, sql: string): Array<Record<string, unknown>> => readRows(join(tmp.dir, db), sql);

async function bookmarks(db: string): Promise<Record<string, unknown>> {
  const shown = await runSync(['state', 'show', 'shopify', '--target', `sqlite:${join(tmp.dir, db)}`], { cwd: tmp.dir });
  expect(shown.code, shown.stderr).toBe(0);
  const state = JSON.parse(shown.stdout) as { bookmarks: Record<string, { replication_key_value: unknown }> };
  return Object.fromEntries(Object.entries(state.bookmarks).map(([k, v]) => [k, v.replication_key_value]));
}

describe('sync run shopify', () => {
  it('reads a shop from scratch through one bulk operation per stream, items under their parents', async () => {
    const result = await run('bulk.db');
    expect(result.code, result.stderr).toBe(0);
    // No paging at all: three bulk exports, their files fetched without the Admin API token.
    expect(model.searches).toEqual([]);
    expect(model.bulkQueries.map((q) => /^\{ (\w+)/.exec(q)?.[1])).toEqual(['orders', 'customers', 'products']);
    expect(model.tokenSentToStorage).toBe(0);
    expect(rows('bulk.db', 'SELECT CAST(id AS TEXT) AS id, name, total_price, financial_status, CAST(customer_id AS TEXT) AS customer FROM orders ORDER BY name')).toEqual([
      { id: String(first.id), name: '#1001', total_price: '127.00', financial_status: 'paid', customer: String(ann.id) },
      { id: String(model.orders[1]?.id), name: '#1002', total_price: '41.00', financial_status: 'paid', customer: String(bob.id) },
    ]);
    const items = rows('bulk.db', `SELECT line_items FROM orders WHERE name = '#1001'`)[0]?.['line_items'] as string;
    // Exact ids beyond 2^53 inside the JSON text too.
    expect(items).toContain(`"variant_id":${shirt.variants[1]?.id}`);
    expect(JSON.parse(items)).toMatchObject([
      { name: 'Linen Shirt - Size 2', quantity: 2, price: '55.00', sku: 'linen-shirt-2' },
      { name: 'Mug - Size 1', quantity: 1, price: '12.00' },
    ]);
    expect(rows('bulk.db', `SELECT title, json_array_length(variants) AS n, json_extract(variants, '$[0].price') AS price, status, tags FROM products ORDER BY title`)).toEqual([
      { title: 'Linen Shirt', n: 2, price: '49.50', status: 'active', tags: '["summer"]' },
      { title: 'Mug', n: 1, price: '12.00', status: 'active', tags: '["summer"]' },
    ]);
    expect(rows('bulk.db', 'SELECT email, first_name, state, verified_email, tags FROM customers ORDER BY email')).toEqual([
      { email: 'ann@example.com', first_name: 'Ann', state: 'enabled', verified_email: 1, tags: '["newsletter","vip"]' },
      { email: 'bob@example.com', first_name: 'Bob', state: 'enabled', verified_email: 1, tags: '["newsletter","vip"]' },
    ]);
    // The bookmark a paged read would leave: each stream's newest updated_at.
    expect(await bookmarks('bulk.db')).toEqual({ orders: model.orders[1]?.updatedAt, customers: bob.updatedAt, products: mug.updatedAt });
    expect(result.stderr).not.toContain(TOKEN);
  });

  it('a start_date bounds the bulk export with the same search filter', async () => {
    const result = await run('since.db', { start_date: bob.updatedAt });
    expect(result.code, result.stderr).toBe(0);
    expect(model.bulkQueries.every((q) => q.includes(`updated_at:>='${bob.updatedAt}'`))).toBe(true);
    expect(rows('since.db', 'SELECT email FROM customers')).toEqual([{ email: 'bob@example.com' }]);
  });

  it('pages from the bookmark with the search filter, picking up updates and new objects', async () => {
    expect((await run('inc.db')).code).toBe(0);
    const marks = await bookmarks('inc.db');
    model.touch(first, { financial: 'PARTIALLY_REFUNDED', fulfillment: 'FULFILLED', tags: ['gift'] });
    const cy = model.addCustomer('Cy', 'Fox', 'cy@example.com');
    model.touch(shirt, { title: 'Linen Shirt II' });
    const second = await run('inc.db');
    expect(second.code, second.stderr).toBe(0);
    expect(model.bulkQueries).toHaveLength(3);
    expect(model.searches).toEqual([
      { root: 'orders', query: `updated_at:>='${String(marks['orders'])}'` },
      { root: 'customers', query: `updated_at:>='${String(marks['customers'])}'` },
      { root: 'products', query: `updated_at:>='${String(marks['products'])}'` },
    ]);
    expect(rows('inc.db', `SELECT financial_status, fulfillment_status, tags, updated_at FROM orders WHERE name = '#1001'`)).toEqual([
      { financial_status: 'partially_refunded', fulfillment_status: 'fulfilled', tags: '["gift"]', updated_at: first.updatedAt },
    ]);
    expect(rows('inc.db', 'SELECT email FROM customers ORDER BY email').map((r) => r['email'])).toEqual(['ann@example.com', 'bob@example.com', 'cy@example.com']);
    expect(rows('inc.db', `SELECT title FROM products WHERE CAST(id AS TEXT) = '${shirt.id}'`)).toEqual([{ title: 'Linen Shirt II' }]);
    expect(await bookmarks('inc.db')).toMatchObject({ customers: cy.updatedAt, products: shirt.updatedAt });
  });

  it('a full read marks what the shop no longer lists as deleted, as webhooks would have', async () => {
    const products = Array.from({ length: 12 }, (_, i) => model.addProduct(`Mug ${i}`, ['9.00']));
    expect((await run('gone.db')).code).toBe(0);
    // Deleted in the shop while no listener ran: only a full read can tell.
    const gone = products[4];
    model.products.splice(model.products.indexOf(gone as (typeof model.products)[number]), 1);
    const result = await run('gone.db', {}, ['--full-refresh', '--streams', 'products']);
    expect(result.code, result.stderr).toBe(0);
    expect(rows('gone.db', 'SELECT CAST(id AS TEXT) AS id FROM products WHERE _sdc_deleted_at IS NOT NULL')).toEqual([{ id: String(gone?.id) }]);
    expect(rows('gone.db', 'SELECT count(*) AS n FROM products WHERE _sdc_deleted_at IS NULL')).toEqual([{ n: model.products.length }]);
  });

  it('pages through several pages with the cursor in the variables', async () => {
    for (let i = 0; i < 12; i++) model.addProduct(`Poster ${i}`, ['5.00']);
    expect((await run('pages.db')).code).toBe(0);
    model.searches.length = 0;
    const result = await run('pages.db', {}, ['--full-refresh']);
    expect(result.code, result.stderr).toBe(0);
    // --full-refresh reads from scratch: the bulk path again.
    expect(model.bulkQueries).toHaveLength(6);
    const state = join(tmp.dir, 'state.json');
    writeFileSync(state, JSON.stringify({ bookmarks: { products: { replication_key: 'updated_at', replication_key_value: '2026-01-01T00:00:00Z' } } }));
    const paged = await run('pages.db', {}, ['--streams', 'products', '--state', state]);
    expect(paged.code, paged.stderr).toBe(0);
    // 14 products at 5 a page.
    expect(model.searches.filter((s) => s.root === 'products')).toHaveLength(3);
    expect(rows('pages.db', 'SELECT count(*) AS n FROM products')).toEqual([{ n: 14 }]);
  });

  it('waits for the cost bucket when another app drained it, instead of failing', async () => {
    model.drainedBy = 2;
    const result = await run('throttled.db');
    expect(result.code, result.stderr).toBe(0);
    expect(model.throttled).toBe(2);
    expect(rows('throttled.db', 'SELECT count(*) AS n FROM orders')).toEqual([{ n: 2 }]);
  });

  it('GraphQL errors fail the run with the server\'s words: a field an older API version lacks', async () => {
    const state = join(tmp.dir, 'state.json');
    writeFileSync(state, JSON.stringify({ bookmarks: { customers: { replication_key: 'updated_at', replication_key_value: '2026-01-01T00:00:00Z' } } }));
    const paged = await run('old.db', { api_version: '2024-04' }, ['--streams', 'customers', '--state', state]);
    expect(paged.code).toBe(1);
    expect(paged.stderr).toMatch(/GraphQL errors: Field 'defaultEmailAddress' doesn't exist on type 'QueryRoot' \(undefinedField\)/);
    const bulk = await run('old-bulk.db', { api_version: '2024-04' }, ['--streams', 'customers']);
    expect(bulk.code).toBe(1);
    expect(bulk.stderr).toMatch(/Shopify bulk export of customers: Shopify refused to start it: Invalid bulk query: Field 'defaultEmailAddress' doesn't exist/);
  });

  it('a failed bulk operation fails the run clearly, keeping what earlier streams committed', async () => {
    model.failBulk = { status: 'FAILED', errorCode: 'INTERNAL_SERVER_ERROR' };
    const result = await run('failed.db');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Shopify bulk export of orders failed: status FAILED \(INTERNAL_SERVER_ERROR\)/);
    expect(result.stderr).not.toContain(TOKEN);
  });

  it('a wrong token is the API\'s 401, never the token', async () => {
    const wrong = 'shpat_ffffffffffffffffffffffffffffffff';
    const result = await run('wrong.db', { access_token: wrong });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/401.*Invalid API key or access token/);
    expect(result.stderr).not.toContain(wrong);
  });

  it('a shop that is not a myshopify.com domain, without base_url, is a usage error', async () => {
    const path = join(tmp.dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ shop: 'acme.example.com', access_token: TOKEN }));
    const result = await runSync(['run', 'shopify', '--config', path, '--target', `sqlite:${join(tmp.dir, 'x.db')}`], { cwd: tmp.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/shop: the shop's own domain/);
  });
});

describe('sync run shopify --about and --discover', () => {
  interface AboutStream { name: string; key_properties: string[]; replication_key: string | null; version: string; deletions: string }
  interface CatalogStream { stream: string; key_properties: string[]; replication_key?: string; schema: { properties: Record<string, unknown> }; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }
  const about = async (args: string[] = []) => {
    const result = await runSync(['run', 'shopify', '--about', '--format', 'json', ...args], { cwd: tmp.dir });
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as { streams: AboutStream[]; streams_need_config: boolean };
  };
  const discover = async (extra: object = {}) => {
    const result = await runSync(['run', 'shopify', '--config', configFile(extra), '--discover'], { cwd: tmp.dir });
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { streams: CatalogStream[] }).streams;
  };
  /** What --about says of a stream, as --discover's catalog says it. */
  const asAbout = (s: CatalogStream): AboutStream => {
    const root = s.metadata.find((m) => m.breadcrumb.length === 0)?.metadata ?? {};
    return { name: s.stream, key_properties: s.key_properties, replication_key: s.replication_key ?? null, version: root['sync-version'] as string, deletions: root['sync-deletions'] as string };
  };

  it('--about lists the streams with no config, as --discover has them; neither asks the shop anything', async () => {
    const listed = await about();
    expect(listed.streams_need_config).toBe(false);
    expect(listed.streams.map((s) => [s.name, s.key_properties, s.replication_key])).toEqual([
      ['orders', ['id'], 'updated_at'],
      ['customers', ['id'], 'updated_at'],
      ['products', ['id'], 'updated_at'],
    ]);
    expect(listed.streams[0]?.deletions).toMatch(/deletions arrive through webhooks.*a full read .* marks rows it did not see as deleted, at most 10% of the table/);
    const catalog = await discover();
    expect(catalog.map(asAbout)).toEqual(listed.streams);
    expect(Object.keys(catalog[0]?.schema.properties ?? {})).toEqual(expect.arrayContaining(['id', 'name', 'total_price', 'line_items', 'updated_at']));
    expect(model.server.seen).toEqual([]);
    const text = await runSync(['run', 'shopify', '--about'], { cwd: tmp.dir });
    expect(text.stdout).toContain('Streams:\n  orders (key id, incremental by updated_at)\n      version: the record\'s updated_at');
  });

  it('--about --config says what those settings give: with start_date, no full read marks deletions', async () => {
    const bounded = { start_date: '2026-01-01T00:00:00Z' };
    const listed = await about(['--config', configFile(bounded)]);
    expect(listed.streams[0]?.deletions).not.toMatch(/full read/);
    expect((await discover(bounded)).map(asAbout)).toEqual(listed.streams);
    expect(model.server.seen).toEqual([]);
  });
});
