import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readsFeed } from '../../connectors/rest/change-feed.js';
import type { RestChangeFeed, RestStream } from '../../connectors/rest/description/index.js';
import { parseDescription } from '../../connectors/rest/index.js';
import { silentLogger } from '../../src/log.js';
import type { JsonValue } from '../../src/protocol/json.js';
import { emptyState } from '../../src/protocol/state.js';
import Stripe from 'stripe';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { readRows, writeConfig } from '../helpers/files.js';
import { startStripe, type StripeModel } from '../stripe/model.js';

/**
 * Change feeds: an API whose lists cannot say what changed (a `created` filter finds new
 * objects only) but which keeps an events feed. The first run lists the stream; later runs read
 * the events since the bookmark and apply each event's object, deletions included, with the
 * event time as the version; a bookmark older than the feed keeps events means a full read.
 */

const KEY = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const WEBHOOK_SECRET = 'whsec_feed_and_hooks_5150';

function paymentsDescription(baseUrl: string): object {
  const paging = { type: 'after_last', key_path: 'id', param: 'starting_after', has_more_path: 'has_more', limit_param: 'limit', page_size: 2 };
  return {
    base_url: baseUrl,
    auth: { type: 'bearer' },
    token: KEY,
    change_feeds: {
      events: {
        path: '/v1/events', records_path: 'data', pagination: paging,
        incremental: { param: 'created[gte]', format: 'epoch_seconds' },
        type_path: 'type', time_path: 'created', object_path: 'data.object', newest_first: true, retention_days: 30,
      },
    },
    streams: [
      {
        name: 'customers', path: '/v1/customers', records_path: 'data', primary_key: 'id', replication_key: 'changed_at', pagination: paging,
        change_feed: { feed: 'events', params: { type: 'customer.*' }, deleted_events: ['customer.deleted'] },
        schema: {
          properties: {
            id: { type: 'string' }, object: { type: 'string' }, created: { type: 'integer' }, email: { type: ['null', 'string'] },
            name: { type: ['null', 'string'] }, balance: { type: 'integer' }, metadata: { type: 'object' },
          },
        },
      },
    ],
    // The same events, pushed: the same record from either path.
    webhooks: {
      scheme: { kind: 'stripe' }, event_path: 'type', time_path: 'created', delivery_id: { path: 'id' },
      events: {
        'customer.created': { stream: 'customers', object_path: 'data.object' },
        'customer.updated': { stream: 'customers', object_path: 'data.object' },
        'customer.deleted': { stream: 'customers', object_path: 'data.object', deleted: true },
      },
    },
  };
}

let tmp: ReturnType<typeof tempDir>;
let api: StripeModel;
beforeEach(async () => {
  tmp = tempDir('sync-change-feed-');
  api = await startStripe(KEY);
});
afterEach(async () => {
  await api.close();
  tmp.cleanup();
});

function run(extra: string[] = []) {
  const config = writeConfig(tmp.dir, 'payments', paymentsDescription(api.url));
  return runSync(['run', 'rest', '--config', config, '--target', `sqlite:${join(tmp.dir, 'out.db')}`, ...extra], { cwd: tmp.dir });
}

type Row = { id: string; email: string | null; balance: number; changed_at: string; _sdc_deleted_at: string | null };
function rows(): Row[] {
  return readRows(join(tmp.dir, 'out.db'), 'SELECT id, email, balance, changed_at, _sdc_deleted_at FROM customers ORDER BY id') as Row[];
}

function paths(): string[] {
  return api.server.seen.map((r) => new URL(r.url, 'http://x').pathname);
}

describe('a change feed as the incremental source of a stream', () => {
  it('lists the stream first, then applies the events since the bookmark: updates, deletions, new objects', async () => {
    const ann = api.create('customer', { email: 'ann@example.com' });
    const bob = api.create('customer', { email: 'bob@example.com' });
    const cy = api.create('customer', { email: 'cy@example.com', balance: 5 });
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('unknown setting');
    expect(new Set(paths())).toEqual(new Set(['/v1/customers']));
    const listed = rows();
    expect(listed.map((r) => [r.id, r.email, r._sdc_deleted_at])).toEqual([
      [ann.id, 'ann@example.com', null],
      [bob.id, 'bob@example.com', null],
      [cy.id, 'cy@example.com', null],
    ]);
    // A full read stamps the time it started (whole seconds): the feed takes over from there.
    const stamp = listed[0]?.changed_at ?? '';
    expect(listed.every((r) => r.changed_at === stamp)).toBe(true);

    api.update(ann.id, { email: 'ann@new.example.com' });
    const gone = api.remove(bob.id);
    const dee = api.create('customer', { email: 'dee@example.com' });
    api.update(dee.id, { balance: 10 });
    api.update(dee.id, { balance: 20 });
    api.server.seen.length = 0;
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    // Only the feed was read, since the bookmark, of this stream's event types.
    expect(new Set(paths())).toEqual(new Set(['/v1/events']));
    const asked = new URL(api.server.seen[0]?.url ?? '', 'http://x').searchParams;
    expect(asked.get('type')).toBe('customer.*');
    expect(Number(asked.get('created[gte]'))).toBe(Math.floor(Date.parse(stamp) / 1000));

    const after = new Map(rows().map((r) => [r.id, r]));
    expect(after.get(ann.id)?.email).toBe('ann@new.example.com');
    // The newest event of an object wins, also among events of the same second.
    expect(after.get(dee.id)?.balance).toBe(20);
    expect(after.get(bob.id)?._sdc_deleted_at).toBe(new Date(gone.created * 1000).toISOString());
    expect(after.get(cy.id)).toEqual(listed[2]);
    expect(after.size).toBe(4);
  });

  it('a webhook and the feed give the same row for the same event; the feed brings what webhooks missed', async () => {
    const ann = api.create('customer', { email: 'ann@example.com' });
    const bob = api.create('customer', { email: 'bob@example.com' });
    expect((await run()).code).toBe(0);
    const pushed = api.update(ann.id, { email: 'ann@pushed.example.com', metadata: { tier: 'gold' } });
    const missed = api.update(bob.id, { balance: 7 });
    const config = writeConfig(tmp.dir, 'payments', paymentsDescription(api.url));
    const { child, url, done } = await startListen(['rest', '--config', config, '--target', `sqlite:${join(tmp.dir, 'out.db')}`], {
      cwd: tmp.dir,
      env: { SYNC_REST_WEBHOOK_SECRET: WEBHOOK_SECRET },
    });
    const payload = JSON.stringify(pushed);
    const signature = new Stripe(KEY).webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const answer = await fetch(`${url}/webhooks/rest`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
    expect(answer.status).toBe(200);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
    const byWebhook = rows().find((r) => r.id === ann.id);
    expect(byWebhook?.email).toBe('ann@pushed.example.com');
    expect(rows().find((r) => r.id === bob.id)?.balance).toBe(0);

    expect((await run()).code).toBe(0);
    const all = readRows(join(tmp.dir, 'out.db'), 'SELECT * FROM customers ORDER BY id');
    const annRow = all.find((r) => r['id'] === ann.id);
    expect(rows().find((r) => r.id === ann.id)).toEqual(byWebhook);
    expect(annRow?.['metadata']).toBe('{"tier":"gold"}');
    expect(rows().find((r) => r.id === bob.id)).toMatchObject({ balance: 7, changed_at: new Date(missed.created * 1000).toISOString() });
  });

  it('reads the stream in full when the bookmark is older than the feed keeps events', async () => {
    const ann = api.create('customer', { email: 'ann@example.com' });
    const config = writeConfig(tmp.dir, 'payments', paymentsDescription(api.url));
    const target = `sqlite:${join(tmp.dir, 'out.db')}`;
    const old = new Date(Date.now() - 45 * 86_400_000).toISOString();
    const state = writeConfig(tmp.dir, 'state', { bookmarks: { customers: { replication_key: 'changed_at', replication_key_value: old } } });
    const set = await runSync(['state', 'set', 'rest', '--target', target, '--file', state], { cwd: tmp.dir });
    expect(set.code, set.stderr).toBe(0);
    const result = await runSync(['run', 'rest', '--config', config, '--target', target], { cwd: tmp.dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('is older than the 30 days events keeps events: reading the stream in full');
    expect(new Set(paths())).toEqual(new Set(['/v1/customers']));
    expect(rows().map((r) => r.id)).toEqual([ann.id]);
  });

  it('--discover says how the stream is versioned and how deletions reach it', async () => {
    const config = writeConfig(tmp.dir, 'payments', paymentsDescription(api.url));
    const result = await runSync(['run', 'rest', '--config', config, '--discover'], { cwd: tmp.dir });
    expect(result.code, result.stderr).toBe(0);
    const catalog = JSON.parse(result.stdout) as { streams: Array<{ schema: { properties: Record<string, unknown> }; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
    const stream = catalog.streams[0];
    const meta = stream?.metadata.find((m) => m.breadcrumb.length === 0)?.metadata;
    expect(meta?.['sync-version']).toBe("changed_at: the time of the change (the event's time from events or a webhook, the read's start in a full read); the newest copy of a row wins");
    expect(meta?.['sync-deletions']).toBe("webhook events customer.deleted mark the row deleted (_sdc_deleted_at: the event's created); customer.deleted events in events mark the row deleted (_sdc_deleted_at, the event time)");
    expect(stream?.schema.properties['changed_at']).toEqual({ type: ['null', 'string'], format: 'date-time' });
    expect(api.server.seen).toHaveLength(0);
  });

  it('tells the age of a bookmark held as an epoch number in the feed\'s unit, and trusts one it cannot tell', () => {
    const { description } = parseDescription(paymentsDescription('http://127.0.0.1:9') as never);
    if (description === undefined) throw new Error('the description should be valid');
    const stream = description.streams[0] as RestStream;
    const feed = description.changeFeeds.get('events') as RestChangeFeed;
    const now = new Date('2026-06-01T00:00:00Z');
    const reads = (bookmark: JsonValue) => readsFeed(stream, feed, { config: {}, bookmark, state: emptyState(), log: silentLogger, signal: new AbortController().signal, startedAt: now });
    const daysAgo = (days: number) => now.getTime() / 1000 - days * 86_400;
    expect([reads(daysAgo(10)), reads(daysAgo(40))]).toEqual([true, false]);
    expect([reads(new Date(daysAgo(10) * 1000).toISOString()), reads(new Date(daysAgo(40) * 1000).toISOString())]).toEqual([true, false]);
    expect(reads('not a time')).toBe(true);
  });

  it('says what is wrong with a change feed, each problem with its path', () => {
    const description = paymentsDescription('http://127.0.0.1:9') as { change_feeds: { events: Record<string, unknown> }; streams: Array<Record<string, unknown>> };
    const feed = description.change_feeds.events;
    delete feed['incremental'];
    delete feed['time_path'];
    feed['retention_days'] = 0;
    const stream = description.streams[0] as Record<string, unknown>;
    stream['sorted'] = true;
    stream['incremental'] = { param: 'created[gte]' };
    stream['change_feed'] = { feed: 'evnts', deleted_events: 'customer.deleted', extra: 1 };
    expect(parseDescription(description as never).problems).toEqual([
      'change_feeds.events.time_path: required',
      'change_feeds.events.retention_days: must be a number >= 1',
      'change_feeds.events.incremental: required: {"param": …, "format": …}, how the feed is asked for the events since the bookmark',
      'streams[0].change_feed.extra: unknown key (known: feed, params, events, deleted_events)',
      'streams[0].change_feed.deleted_events: must be a non-empty list of names',
      'streams[0].incremental: a stream read from a change feed is bounded by the feed\'s incremental rule: leave it out',
      'streams[0].sorted: a change feed is not read in the order of the stream\'s replication key: leave it out',
      'streams[0].change_feed.feed: must name one of change_feeds (none is valid), got "evnts"',
    ]);
  });
});
