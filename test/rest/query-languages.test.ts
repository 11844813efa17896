import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';
import { startGraphqlShop, type GraphqlShop, type ShopOrder } from './models/graphql-shop.js';
import { startSoqlApi, type SoqlApi, type SoqlRecord } from './models/soql-api.js';

/**
 * `sync run rest` against APIs whose filters live inside a query language: a GraphQL search
 * string in the variables (with cursor paging in the body, errors and a cost bucket), and
 * SOQL in a query parameter (with nextRecordsUrl paging and deletions through queryAll).
 */

let tmp: ReturnType<typeof tempDir>;
let closers: Array<() => Promise<void>> = [];
beforeEach(() => (tmp = tempDir('sync-ql-')));
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
  tmp.cleanup();
});

function run(description: object, ...flags: string[]) {
  const config = join(tmp.dir, 'api.json');
  writeFileSync(config, JSON.stringify(description));
  return runSync(['run', 'rest', '--config', config, '--target', `sqlite:${join(tmp.dir, 'out.db')}`, ...flags], { cwd: tmp.dir });
}

function rows(sql: string): unknown[] {
  const db = new Database(join(tmp.dir, 'out.db'), { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

describe('a GraphQL stream', () => {
  const TOKEN = 'shpat_graphql_secret_1';
  const order = (n: number, updatedAt: string): ShopOrder => ({ id: `gid://shop/Order/${n}`, name: `#${1000 + n}`, updatedAt });
  let shop: GraphqlShop;

  const description = (shopUrl: string, query = 'query Orders($first: Int!, $after: String, $query: String) { orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { nodes { id name updatedAt } pageInfo { hasNextPage endCursor } } }') => ({
    base_url: shopUrl,
    headers: { 'x-shopify-access-token': TOKEN },
    streams: [
      {
        name: 'orders',
        path: '/admin/api/2026-04/graphql.json',
        graphql: { query, variables: { first: 2, query: "[[updated_at:>={bookmark}]]" } },
        records_path: 'data.orders.nodes',
        primary_key: 'id',
        replication_key: 'updatedAt',
        sorted: true,
        incremental: { quoting: 'search' },
        pagination: { type: 'cursor', cursor_path: 'data.orders.pageInfo.endCursor', cursor_param: 'variables.after', has_more_path: 'data.orders.pageInfo.hasNextPage', params_in: 'body' },
        schema: { properties: { id: { type: 'string' }, name: { type: 'string' }, updatedAt: { type: 'string', format: 'date-time' } } },
      },
    ],
  });

  it('pages through the cursor in the variables, then asks only for what changed since the bookmark', async () => {
    shop = await startGraphqlShop([order(1, '2026-01-01T00:00:00Z'), order(2, '2026-01-02T00:00:00Z'), order(3, '2026-01-03T00:00:00Z')], TOKEN);
    closers.push(() => shop.close());
    const first = await run(description(shop.server.url));
    expect(first.code, first.stderr).toBe(0);
    expect(rows('SELECT id, name FROM orders ORDER BY id')).toHaveLength(3);
    // No bookmark on the first run: the optional search part is left out.
    expect(shop.searches.every((s) => s === '' || s === undefined)).toBe(true);

    shop.orders.push(order(4, '2026-01-04T00:00:00Z'));
    shop.orders[0] = order(1, '2026-01-05T00:00:00Z');
    shop.searches.length = 0;
    const second = await run(description(shop.server.url));
    expect(second.code, second.stderr).toBe(0);
    expect(shop.searches[0]).toBe("updated_at:>='2026-01-03T00:00:00Z'");
    expect(rows(`SELECT id, updatedAt FROM orders WHERE id IN ('gid://shop/Order/1', 'gid://shop/Order/4') ORDER BY id`)).toEqual([
      { id: 'gid://shop/Order/1', updatedAt: '2026-01-05T00:00:00Z' },
      { id: 'gid://shop/Order/4', updatedAt: '2026-01-04T00:00:00Z' },
    ]);
  });

  it('waits for the cost bucket instead of failing when throttled', async () => {
    const orders = Array.from({ length: 12 }, (_, i) => order(i + 1, `2026-01-${String(i + 1).padStart(2, '0')}T00:00:00Z`));
    // Each query costs 60 of 100 points, 600 restored a second: the second query in a row must wait.
    shop = await startGraphqlShop(orders, TOKEN, { max: 100, rate: 600, cost: 60 });
    closers.push(() => shop.close());
    const result = await run(description(shop.server.url));
    expect(result.code, result.stderr).toBe(0);
    expect(rows('SELECT count(*) AS n FROM orders')).toEqual([{ n: 12 }]);
    expect(shop.searches).toHaveLength(6);
  });

  it('fails on GraphQL errors in a 200 answer, naming them, with nothing stored as a bookmark', async () => {
    shop = await startGraphqlShop([order(1, '2026-01-01T00:00:00Z')], TOKEN);
    closers.push(() => shop.close());
    const result = await run(description(shop.server.url, 'query { orders(first: 2) { nodes { id noSuchField } pageInfo { hasNextPage endCursor } } }'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/GraphQL errors: Field 'noSuchField' doesn't exist on type 'Order' \(undefinedField\)/);
    expect(result.stderr).not.toContain(TOKEN);
  });
});

describe('a SOQL stream', () => {
  const TOKEN = 'sf-access-token-00D';
  const contact = (n: number, at: string, deleted = false): SoqlRecord => ({ Id: `003${n}`, Name: `Contact ${n}`, SystemModstamp: at, IsDeleted: deleted });
  let api: SoqlApi;

  const description = (url: string) => ({
    base_url: url,
    auth: { type: 'bearer' },
    token: TOKEN,
    streams: [
      {
        name: 'contacts',
        path: '/services/data/v62.0/queryAll',
        params: { q: 'SELECT Id, Name, SystemModstamp, IsDeleted FROM Contact[[ WHERE SystemModstamp >= {bookmark}]] ORDER BY SystemModstamp' },
        records_path: 'records',
        primary_key: 'Id',
        replication_key: 'SystemModstamp',
        sorted: true,
        incremental: { format: 'iso8601', quoting: 'soql' },
        pagination: { type: 'next_url', next_url_path: 'nextRecordsUrl' },
        deleted_when: { path: 'IsDeleted', equals: true },
        schema: {
          properties: { Id: { type: 'string' }, Name: { type: ['null', 'string'] }, SystemModstamp: { type: 'string', format: 'date-time' }, IsDeleted: { type: 'boolean' } },
        },
      },
    ],
  });

  it('writes the bound into the SOQL, pages by nextRecordsUrl, and marks deleted records', async () => {
    api = await startSoqlApi([contact(1, '2026-02-01T00:00:00Z'), contact(2, '2026-02-02T00:00:00Z'), contact(3, '2026-02-03T00:00:00Z', true)], TOKEN);
    closers.push(() => api.close());
    const first = await run(description(api.server.url));
    expect(first.code, first.stderr).toBe(0);
    expect(api.queries[0]).toBe('SELECT Id, Name, SystemModstamp, IsDeleted FROM Contact ORDER BY SystemModstamp');
    expect(rows('SELECT Id, _sdc_deleted_at FROM contacts ORDER BY Id')).toEqual([
      { Id: '0031', _sdc_deleted_at: null },
      { Id: '0032', _sdc_deleted_at: null },
      { Id: '0033', _sdc_deleted_at: '2026-02-03T00:00:00Z' },
    ]);

    // Contact 2 is deleted later: the next run asks only for changes, and the row is marked.
    api.records[1] = contact(2, '2026-02-05T00:00:00Z', true);
    api.records.push(contact(4, '2026-02-06T00:00:00Z'));
    const second = await run(description(api.server.url));
    expect(second.code, second.stderr).toBe(0);
    expect(api.queries[1]).toBe('SELECT Id, Name, SystemModstamp, IsDeleted FROM Contact WHERE SystemModstamp >= 2026-02-03T00:00:00Z ORDER BY SystemModstamp');
    expect(rows('SELECT Id, _sdc_deleted_at FROM contacts ORDER BY Id')).toEqual([
      { Id: '0031', _sdc_deleted_at: null },
      { Id: '0032', _sdc_deleted_at: '2026-02-05T00:00:00Z' },
      { Id: '0033', _sdc_deleted_at: '2026-02-03T00:00:00Z' },
      { Id: '0034', _sdc_deleted_at: null },
    ]);
  });

  it('refuses a description whose bound has nowhere to go or a template without a key', async () => {
    api = await startSoqlApi([], TOKEN);
    closers.push(() => api.close());
    const broken = description(api.server.url);
    const stream = broken.streams[0] as Record<string, unknown>;
    delete stream['replication_key'];
    stream['deleted_when'] = { path: 'IsDeleted' };
    const result = await run(broken);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/streams\[0\]\.incremental: \{bookmark\} in the request needs a replication_key on the stream/);
    expect(result.stderr).toMatch(/streams\[0\]\.deleted_when: give "equals" \(one value\) or "in"/);
  });
});

describe('--discover', () => {
  it('shows each stream\'s version rule and how deletions arrive', async () => {
    const config = join(tmp.dir, 'discover.json');
    writeFileSync(
      config,
      JSON.stringify({
        base_url: 'http://127.0.0.1:9',
        streams: [
          {
            name: 'contacts', path: '/q', records_path: 'records', primary_key: 'Id', replication_key: 'SystemModstamp',
            deleted_when: { path: 'IsDeleted', equals: true }, variants: [{ all: true }],
            schema: { properties: { Id: { type: 'string' }, SystemModstamp: { type: 'string', format: 'date-time' } } },
          },
          { name: 'tags', path: '/tags', primary_key: 'id', schema: { properties: { id: { type: 'string' } } } },
        ],
      }),
    );
    const result = await runSync(['run', 'rest', '--config', config, '--discover'], { cwd: tmp.dir });
    expect(result.code, result.stderr).toBe(0);
    const catalog = JSON.parse(result.stdout) as { streams: Array<{ stream: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
    const meta = (name: string) => catalog.streams.find((s) => s.stream === name)?.metadata.find((m) => m.breadcrumb.length === 0)?.metadata;
    expect(meta('contacts')).toMatchObject({
      'sync-version': "the record's SystemModstamp (the newest copy of a row wins, whichever path wrote it)",
      'sync-deletions': 'records whose IsDeleted is true are marked deleted (_sdc_deleted_at) (also read with {"all":true})',
    });
    expect(meta('tags')).toMatchObject({ 'sync-version': 'none: the copy written last wins' });
    expect(String(meta('tags')?.['sync-deletions'])).toMatch(/not listed by the source/);
  });
});

describe('exact numbers from an API', () => {
  it('a decimal beyond a double passes validation as the number it is and is stored exactly', async () => {
    const { startServer } = await import('../http/server.js');
    const api = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"records":[{"Id":"001","AnnualRevenue":98765432109876543.21}]}');
    });
    closers.push(() => api.close());
    const result = await run({
      base_url: api.url,
      streams: [{ name: 'accounts', path: '/q', records_path: 'records', primary_key: 'Id', schema: { properties: { Id: { type: 'string' }, AnnualRevenue: { type: ['null', 'number'] } } } }],
    });
    expect(result.code, result.stderr).toBe(0);
    expect(rows('SELECT CAST(AnnualRevenue AS TEXT) AS revenue FROM accounts')).toEqual([{ revenue: '98765432109876543.21' }]);
  });
});
