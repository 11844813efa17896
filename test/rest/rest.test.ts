import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import rest, { parseDescription, resolveRestStreams } from '../../connectors/rest/index.js';
import { TOP_KEYS } from '../../connectors/rest/description/index.js';
import { inferSchema } from '../../connectors/rest/infer-schema.js';
import { eachRecord, type StreamDefinition } from '../../src/connector/contract.js';
import { resolveConfig } from '../../src/connector/config.js';
import { UsageError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { JsonObject, JsonValue } from '../../src/protocol/json.js';
import { emptyState, type SyncState } from '../../src/protocol/state.js';
import { selectAll } from '../../src/tap/catalog.js';
import { runTap } from '../../src/tap/runner.js';
import { tempDir } from '../helpers/cli.js';
import { syncIntoSqlite } from '../helpers/sync-into-sqlite.js';
import { sendJson, startServer, type Handler, type TestServer } from '../http/server.js';
import { startFakeApi, type FakeApi, type Item } from './fake-api.js';

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);
const TOKEN = 'tok-123456';
const tmp = tempDir('sync-rest-');
afterAll(tmp.cleanup);

let servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function server(handler: Handler): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

async function fakeApi(stepMs?: number): Promise<FakeApi> {
  const api = await startFakeApi(T0, stepMs, TOKEN);
  servers.push(api);
  return api;
}

const resolve = (config: JsonObject): Promise<StreamDefinition<JsonObject>[]> =>
  resolveRestStreams(config, { log: silentLogger, signal: new AbortController().signal, http: { retry: { maxAttempts: 1 } } });

async function read(stream: StreamDefinition<JsonObject> | undefined, bookmark?: JsonValue): Promise<JsonObject[]> {
  if (!stream) throw new Error('no stream');
  const out: JsonObject[] = [];
  const ctx = { config: {}, bookmark, state: emptyState(), log: silentLogger, signal: new AbortController().signal, startedAt: new Date() };
  for await (const r of eachRecord(stream.read(ctx))) out.push(r);
  return out;
}

function itemsDescription(api: FakeApi, stream: JsonObject = {}): JsonObject {
  return {
    base_url: api.server.url,
    auth: { type: 'bearer' },
    token: TOKEN,
    streams: [
      {
        name: 'items',
        path: '/items',
        records_path: 'data',
        primary_key: 'id',
        replication_key: 'updated_at',
        sorted: true,
        incremental: { param: 'updated_since', format: 'iso8601', lookback_minutes: 10 },
        pagination: { type: 'keyset', limit_param: 'limit', page_size: 3, offset_param: 'offset' },
        schema: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, updated_at: { type: 'string', format: 'date-time' } } },
        ...stream,
      },
    ],
  };
}

describe('the description is checked once, every problem with its path', () => {
  it('lists each problem', async () => {
    const config: JsonObject = {
      base_url: 'ftp://example.com',
      auth: { type: 'api_key' },
      streams: [
        { name: 'ok', path: '/a' },
        { name: 'Bad-Name', path: '/b', pagination: { type: 'cursor', cursor_param: 'c' }, incremental: { format: 'weekly' } },
        { path: '/c', pagnation: {} },
        { name: 'ok', path: '/d', pagination: { type: 'offset', offset_param: 'o' }, primary_key: [1] },
      ],
    };
    const { description, problems } = parseDescription(config);
    expect(description).toBeUndefined();
    expect(problems.map((p) => p.slice(0, p.indexOf(': ')))).toEqual([
      'base_url',
      'api_key',
      'auth.name',
      'streams[1].name',
      'streams[1].incremental',
      'streams[1].incremental.format',
      'streams[1].pagination.cursor_path',
      'streams[2].pagnation',
      'streams[2].name',
      'streams[3].primary_key',
      'streams[3].pagination.page_size',
    ]);
    expect(problems).toContain('streams[1].pagination.cursor_path: required');
    expect(problems).toContain('api_key: required by auth.type "api_key" (set it in the file or in SYNC_REST_API_KEY)');
    expect(problems).toContain('streams[1].incremental.format: must be one of iso8601, date, epoch_seconds, epoch_ms, raw (got "weekly")');
    const err = await resolve(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe('invalid API description for rest (11 problems)');
    expect((err as UsageError).details).toEqual(problems);
  });

  it('keyset paging needs the incremental parameter; streams are required', () => {
    expect(parseDescription({ base_url: 'https://a.test' }).problems).toEqual(['streams: required']);
    const { problems } = parseDescription({
      base_url: 'https://a.test',
      streams: [{ name: 'a', path: '/a', pagination: { type: 'keyset', page_size: 10 } }],
    });
    expect(problems).toEqual([
      'streams[0].pagination.type: keyset pagination needs a replication_key on the stream',
      'streams[0].pagination.type: keyset pagination needs incremental.param, the parameter the API filters on',
    ]);
  });

  it('every key a description may hold is a setting of the connector, so none is warned about as unknown', () => {
    expect(TOP_KEYS.filter((key) => !(key in rest.config.properties))).toEqual([]);
    const { warnings } = resolveConfig('rest', rest.config, { file: { base_url: 'https://api.example.com', streams: [], change_feeds: {}, rate_limit: {}, webhooks: {} }, fileName: 'd.json', env: {} });
    expect(warnings).toEqual([]);
  });

  it('secrets come from the environment through the connector spec, and are marked secret', async () => {
    const api = await fakeApi();
    api.put(1, 'a');
    const { token: _token, ...file } = itemsDescription(api);
    const { config } = resolveConfig('rest', rest.config, { file, env: { SYNC_REST_TOKEN: TOKEN, SYNC_REST_BASE_URL: api.server.url } });
    expect(rest.config.properties['token']?.secret).toBe(true);
    const [items] = await resolve(config);
    expect((await read(items)).map((r) => r['id'])).toEqual([1]);
  });
});

describe('auth from the description, secrets from settings', () => {
  it('OAuth2 client credentials: one token for every stream, sent as a bearer', async () => {
    let tokens = 0;
    const s = await server((req, res, seen) => {
      if (req.url === '/oauth/token') {
        tokens++;
        expect(seen.body).toContain('grant_type=client_credentials');
        return sendJson(res, 200, { access_token: `at-${tokens}-xyz`, expires_in: 3600 });
      }
      if (req.headers['authorization'] !== 'Bearer at-1-xyz') return sendJson(res, 401, {});
      sendJson(res, 200, [{ id: req.url }]);
    });
    const streams = await resolve({
      base_url: s.url,
      auth: { type: 'oauth2_client_credentials', token_url: `${s.url}/oauth/token`, scope: 'read' },
      client_id: 'cid',
      client_secret: 'csecret',
      streams: [
        { name: 'a', path: '/a', primary_key: 'id', schema: { properties: {} } },
        { name: 'b', path: '/b', primary_key: 'id', schema: { properties: {} } },
      ],
    });
    expect((await read(streams[0])).map((r) => r['id'])).toEqual(['/a']);
    expect((await read(streams[1])).map((r) => r['id'])).toEqual(['/b']);
    expect(tokens).toBe(1);
  });

  it('OAuth2 refresh token: a rotated refresh token is written back to refresh_token_file', async () => {
    const file = join(tmp.dir, 'oauth.json');
    writeFileSync(file, '{\n  "base_url": "x",\n  "refresh_token": "rt-old-1"\n}\n', { mode: 0o600 });
    const s = await server((req, res, seen) => {
      if (req.url === '/token') {
        expect(seen.body).toContain('refresh_token=rt-old-1');
        return sendJson(res, 200, { access_token: 'at-new-1', refresh_token: 'rt-new-2', expires_in: 600 });
      }
      sendJson(res, req.headers['authorization'] === 'Bearer at-new-1' ? 200 : 401, [{ id: 1 }]);
    });
    const [stream] = await resolve({
      base_url: s.url,
      auth: { type: 'oauth2_refresh_token', token_url: `${s.url}/token` },
      client_id: 'cid',
      refresh_token: 'rt-old-1',
      refresh_token_file: file,
      streams: [{ name: 'a', path: '/a', primary_key: 'id', schema: { properties: {} } }],
    });
    expect(await read(stream)).toEqual([{ id: 1 }]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ base_url: 'x', refresh_token: 'rt-new-2' });
  });

  it('OAuth2 refresh token: the token in refresh_token_file wins over an older one from the environment', async () => {
    // The last run rotated rt-1 into rt-2 and wrote rt-2 to the file; SYNC_REST_REFRESH_TOKEN
    // still says rt-1, which the provider no longer accepts.
    const file = join(tmp.dir, 'rotated.json');
    writeFileSync(file, '{\n  "refresh_token": "rt-2"\n}\n', { mode: 0o600 });
    const tokenRequests: string[] = [];
    const s = await server((req, res, seen) => {
      if (req.url === '/token') {
        tokenRequests.push(seen.body);
        if (!seen.body.includes('refresh_token=rt-2')) return sendJson(res, 400, { error: 'invalid_grant' });
        return sendJson(res, 200, { access_token: 'at-3', refresh_token: 'rt-3', expires_in: 600 });
      }
      sendJson(res, req.headers['authorization'] === 'Bearer at-3' ? 200 : 401, [{ id: 1 }]);
    });
    const config = resolveConfig('rest', rest.config, {
      file: {
        base_url: s.url,
        auth: { type: 'oauth2_refresh_token', token_url: `${s.url}/token` },
        refresh_token_file: file,
        streams: [{ name: 'a', path: '/a', primary_key: 'id', schema: { properties: {} } }],
      },
      env: { SYNC_REST_CLIENT_ID: 'cid', SYNC_REST_REFRESH_TOKEN: 'rt-1' },
    }).config;
    const [stream] = await resolve(config);
    expect(await read(stream)).toEqual([{ id: 1 }]);
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]).toContain('refresh_token=rt-2');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ refresh_token: 'rt-3' });
  });

  it('OAuth2 refresh token: a refresh_token_file that is not JSON is a clear error', async () => {
    const file = join(tmp.dir, 'broken.json');
    writeFileSync(file, '{"refresh_token": ');
    await expect(
      resolve({
        base_url: 'http://127.0.0.1:9',
        auth: { type: 'oauth2_refresh_token', token_url: 'http://127.0.0.1:9/token' },
        client_id: 'cid',
        refresh_token: 'rt-1',
        refresh_token_file: file,
        streams: [{ name: 'a', path: '/a', primary_key: 'id', schema: { properties: {} } }],
      }),
    ).rejects.toThrow(/refresh_token_file .*broken\.json is not JSON/);
  });

  it('API key in the query string', async () => {
    const s = await server((req, res) => sendJson(res, 200, { data: [{ url: req.url }] }));
    const [stream] = await resolve({
      base_url: `${s.url}/v2/`,
      auth: { type: 'api_key', in: 'query', name: 'key' },
      api_key: 'k-98765',
      streams: [{ name: 'a', path: 'things', records_path: 'data', params: { status: 'all' }, schema: { properties: {} } }],
    });
    expect(await read(stream)).toEqual([{ url: '/v2/things?status=all&key=k-98765' }]);
  });
});

describe('streams as the runner sees them', () => {
  it('a cursor loop fails the run naming the stream; sorted is declared, unsorted by default', async () => {
    const s = await server((_req, res) => sendJson(res, 200, { data: [{ id: 1, u: '2025-01-01T00:00:00Z' }], next: 'same' }));
    const streams = await resolve({
      base_url: s.url,
      streams: [
        { name: 'loopy', path: '/x', records_path: 'data', primary_key: 'id', replication_key: 'u', pagination: { type: 'cursor', cursor_path: 'next', cursor_param: 'c' }, schema: { properties: {} } },
        { name: 'ordered', path: '/x', records_path: 'data', primary_key: 'id', replication_key: 'u', sorted: true, schema: { properties: {} } },
      ],
    });
    expect(streams.map((d) => [d.name, d.sorted, d.replicationKey, d.keyProperties])).toEqual([
      ['loopy', false, 'u', ['id']],
      ['ordered', true, 'u', ['id']],
    ]);
    const run = runTap({
      config: {},
      streams: selectAll({ ...rest, streams }),
      state: emptyState(),
      fullRefresh: false,
      emit: () => undefined,
      log: silentLogger,
      signal: new AbortController().signal,
      interruptedBy: () => undefined,
      startedAt: new Date(),
      stateEveryRecords: 100,
      stateEveryMs: 60_000,
    });
    await expect(run).rejects.toThrow('stream loopy: pagination loop: the cursor (next) "same" came back a second time');
    expect(s.seen).toHaveLength(2);
  });
});

describe('schema inference from the first page', () => {
  it('types top-level properties, keys not null, others nullable', () => {
    const schema = inferSchema(
      [
        { id: 1, price: 2, name: 'a', at: '2025-01-01T00:00:00Z', tags: ['x'], meta: { a: 1 }, gone: null, ok: true },
        { id: 2, price: 2.5, name: null, at: '2025-01-02T00:00:00.5+01:00', tags: [], meta: {}, ok: false },
      ],
      ['id'],
      ['updated_at'],
    );
    expect(schema).toEqual({
      type: 'object',
      properties: {
        id: { type: 'integer' },
        price: { type: ['number', 'null'] },
        name: { type: ['string', 'null'] },
        at: { type: ['string', 'null'], format: 'date-time' },
        tags: { type: ['array', 'null'] },
        meta: { type: ['object', 'null'] },
        gone: {},
        ok: { type: ['boolean', 'null'] },
        updated_at: {},
      },
    });
    expect(inferSchema([{ id: 1, u: null }], ['id'], ['u']).properties).toEqual({ id: { type: 'integer' }, u: {} });
  });

  it('asks the API for a page when the description has no schema', async () => {
    const s = await server((_req, res) => sendJson(res, 200, { results: [{ key: 'k1', n: 1, when: '2025-01-01T00:00:00Z' }] }));
    const [stream] = await resolve({ base_url: s.url, streams: [{ name: 'things', path: '/things', records_path: 'results', primary_key: 'key' }] });
    expect(stream?.schema).toEqual({
      type: 'object',
      properties: { key: { type: 'string' }, n: { type: ['integer', 'null'] }, when: { type: ['string', 'null'], format: 'date-time' } },
    });
    expect(stream?.keyProperties).toEqual(['key']);
  });
});

describe('incremental parameters in the format the API wants', () => {
  const bookmark = '2025-03-05T10:20:30.250Z';
  const cases: Array<[JsonObject, string]> = [
    [{ param: 'since', format: 'iso8601' }, '/x?since=2025-03-05T10%3A20%3A30.250Z'],
    [{ param: 'since', format: 'date' }, '/x?since=2025-03-05'],
    [{ param: 'since', format: 'epoch_seconds' }, '/x?since=1741170030'],
    [{ param: 'since', format: 'epoch_ms', lookback_minutes: 1 }, '/x?since=1741169970250'],
  ];
  for (const [incremental, url] of cases) {
    it(`${String(incremental['format'])}${incremental['lookback_minutes'] ? ' with lookback' : ''}`, async () => {
      const s = await server((_req, res) => sendJson(res, 200, []));
      const [stream] = await resolve({
        base_url: s.url,
        streams: [{ name: 'x', path: '/x', replication_key: 'updated', incremental, schema: { properties: {} } }],
      });
      await read(stream, bookmark);
      expect(s.seen.map((r) => r.url)).toEqual([url]);
    });
  }

  it('a parameter that is only an optional part is left out while there is no bookmark, and filled once there is', async () => {
    const s = await server((_req, res) => sendJson(res, 200, []));
    const [stream] = await resolve({
      base_url: s.url,
      streams: [{ name: 'x', path: '/x', params: { updated_since: '[[{bookmark}]]', q: 'all[[ since {bookmark}]]' }, replication_key: 'updated', schema: { properties: {} } }],
    });
    await read(stream);
    await read(stream, bookmark);
    expect(s.seen.map((r) => r.url)).toEqual(['/x?q=all', '/x?updated_since=2025-03-05T10%3A20%3A30.250Z&q=all%20since%202025-03-05T10%3A20%3A30.250Z']);
  });

  it('a stream with problems of its own is not also reported missing where others name it', () => {
    const { problems } = parseDescription({
      base_url: 'https://api.example.com',
      streams: [{ name: 'a', path: '/a', pagination: { type: 'cursor' } }, { name: 'gone', path: '/gone', tombstones_for: 'a', primary_key: 'id' }],
      webhooks: { scheme: { kind: 'token', header: 'x-token' }, event_path: 'type', events: { e: { stream: 'a' }, f: { stream: 'b' } } },
    });
    expect(problems).toEqual(['streams[0].pagination.cursor_path: required', 'streams[0].pagination.cursor_param: required', 'webhooks.events.f.stream: no such stream "b" (streams: gone)']);
  });

  it('a {last.…} in a request is named as no placeholder, with the paging style that does it', () => {
    const { problems } = parseDescription({ base_url: 'https://api.example.com', streams: [{ name: 'x', path: '/x', params: { starting_after: '{last.id}' } }] });
    expect(problems).toEqual(['streams[0]: {last.id} is not a placeholder: to start each page after the last record, use "pagination": {"type": "after_last", "key_path": …, "param": …}']);
  });

  it('start_date on the first run, in a JSON body of a POST search', async () => {
    const s = await server((_req, res) => sendJson(res, 200, { hits: [] }));
    const [stream] = await resolve({
      base_url: s.url,
      start_date: '2024-01-01T00:00:00Z',
      streams: [
        {
          name: 'x', path: '/search', method: 'POST', body: { query: 'all' }, records_path: 'hits', replication_key: 'u',
          incremental: { param: 'from', format: 'epoch_seconds', in: 'body', lookback_minutes: 60 }, schema: { properties: {} },
        },
      ],
    });
    await read(stream);
    expect(s.seen.map((r) => [r.method, r.body])).toEqual([['POST', '{"query":"all","from":1704067200}']]);
  });
});

describe('client-side filtering when the API cannot filter', () => {
  it('keeps records >= the bound (instants, with the lookback), and records without a value', async () => {
    const s = await server((_req, res) =>
      sendJson(res, 200, [
        { id: 1, u: '2025-01-01T09:00:00Z' },
        { id: 2, u: '2025-01-01T09:55:00Z' },
        { id: 3, u: '2025-01-01T12:00:00+02:00' },
        { id: 4, u: '2025-01-01T10:00:00.000001Z' },
        { id: 5, u: null },
      ]),
    );
    const make = (incremental?: JsonObject): Promise<StreamDefinition<JsonObject>[]> =>
      resolve({ base_url: s.url, streams: [{ name: 'x', path: '/x', primary_key: 'id', replication_key: 'u', ...(incremental ? { incremental } : {}), schema: { properties: {} } }] });
    const [plain] = await make();
    expect((await read(plain, '2025-01-01T10:00:00Z')).map((r) => r['id'])).toEqual([3, 4, 5]);
    const [lookback] = await make({ lookback_minutes: 10 });
    expect((await read(lookback, '2025-01-01T10:00:00Z')).map((r) => r['id'])).toEqual([2, 3, 4, 5]);
    expect((await read(lookback)).map((r) => r['id'])).toEqual([1, 2, 3, 4, 5]);
    expect(s.seen.every((r) => r.url === '/x')).toBe(true);
  });
});

describe('a record updated while its stream is being paged', () => {
  async function scenario(pagination: JsonObject): Promise<{ api: FakeApi; ids: number[]; item4: Item }> {
    const api = await fakeApi();
    for (let id = 1; id <= 9; id++) api.put(id, `v1-${id}`);
    const item4 = api.items.get(4) as Item;
    // After the first page (items 1-3), item 2 changes: it moves behind item 9.
    api.afterPage = (page) => {
      if (page === 0) api.put(2, 'v2-2');
    };
    const [stream] = await resolve(itemsDescription(api, { pagination }));
    const ids = (await read(stream)).map((r) => r['id'] as number);
    return { api, ids, item4 };
  }

  it('offset paging over the moving order skips an unchanged record (why keyset exists)', async () => {
    const { ids } = await scenario({ type: 'offset', offset_param: 'offset', limit_param: 'limit', page_size: 3 });
    expect(ids).not.toContain(4);
  });

  it('keyset paging on updated_at (inclusive bound) reads every record, and the new version', async () => {
    const { api, ids } = await scenario({ type: 'keyset', offset_param: 'offset', limit_param: 'limit', page_size: 3 });
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 2]);
    expect(api.requests()[1]).toBe('/items?limit=3&updated_since=2025-01-01T00%3A00%3A02Z&offset=1');
  });
});

describe('end to end: runner, loader and SQLite against the fake API, two runs', () => {
  async function syncRun(db: string, config: JsonObject, startedAt: Date): Promise<SyncState> {
    return syncIntoSqlite({ db, stateId: 'rest', streams: await resolve(config), config, startedAt, batchRecords: 4 });
  }

  function rows(db: string): unknown[] {
    const d = new Database(db, { readonly: true });
    try {
      return d.prepare('SELECT id, name, updated_at FROM items ORDER BY id').all();
    } finally {
      d.close();
    }
  }

  it('loses nothing, duplicates nothing, ends with the exact bookmark', async () => {
    const api = await fakeApi(20_000);
    // Several items share one timestamp: the bound must be inclusive and the offset exact.
    for (let id = 1; id <= 8; id++) api.put(id, `v1-${id}`);
    api.items.set(9, { id: 9, name: 'v1-9', updated_at: (api.items.get(8) as Item).updated_at });
    api.afterPage = (page) => {
      if (page === 1) api.put(1, 'v2-1');
      if (page === 2) api.put(10, 'v1-10');
    };
    const db = join(tmp.dir, 'e2e.db');
    const config = itemsDescription(api);
    const first = await syncRun(db, config, new Date(T0 + 3_600_000));
    const expected = (): unknown[] => [...api.items.values()].sort((a, b) => a.id - b.id).map((i) => ({ ...i }));
    const max = (): string => [...api.items.values()].map((i) => i.updated_at).sort().at(-1) as string;
    expect(rows(db)).toEqual(expected());
    expect(first.bookmarks).toEqual({ items: { replication_key: 'updated_at', replication_key_value: max() } });

    api.afterPage = (page) => {
      if (page === 0) api.put(3, 'v2-3');
    };
    api.put(5, 'v2-5');
    api.put(11, 'v1-11');
    const before = api.requests().length;
    const second = await syncRun(db, config, new Date(T0 + 7_200_000));
    expect(rows(db)).toEqual(expected());
    expect(second).toEqual({ currently_syncing: null, bookmarks: { items: { replication_key: 'updated_at', replication_key_value: max() } } });
    // The second run asked from the bookmark minus the 10-minute lookback, not from the start.
    const since = new URL(api.requests()[before] ?? '', 'http://x').searchParams.get('updated_since');
    expect(since).toBe(new Date(Date.parse(first.bookmarks['items']?.['replication_key_value'] as string) - 600_000).toISOString().replace('.000Z', 'Z'));
  });
});
