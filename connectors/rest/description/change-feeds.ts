import type { JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import { parseIncremental } from './incremental.js';
import { parsePagination } from './paging.js';
import type { RestChangeFeed, RestStreamChanges } from './types.js';

/**
 * `change_feeds` and `streams[].change_feed`: an events endpoint as the incremental source of
 * the streams that name it. For APIs whose lists cannot be asked "what changed since" (Stripe's
 * `created` filter finds new objects only), the events say what changed, when, and how the
 * object looked after. The first run, and any run whose bookmark is older than the feed keeps
 * events, lists the stream in full instead.
 */

const FEED_KEYS = ['path', 'params', 'records_path', 'pagination', 'incremental', 'type_path', 'time_path', 'object_path', 'newest_first', 'retention_days'];
const STREAM_KEYS = ['feed', 'params', 'events', 'deleted_events'];

export function parseChangeFeeds(c: Checker, raw: JsonValue | undefined, at: string): Map<string, RestChangeFeed> {
  const feeds = new Map<string, RestChangeFeed>();
  if (raw === undefined || !c.object(raw, at)) return feeds;
  for (const [name, value] of Object.entries(raw)) {
    const feed = parseFeed(c, name, value, `${at}.${name}`);
    if (feed !== undefined) feeds.set(name, feed);
  }
  return feeds;
}

function parseFeed(c: Checker, name: string, raw: JsonValue, at: string): RestChangeFeed | undefined {
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, FEED_KEYS);
  const path = c.string(raw['path'], `${at}.path`, true);
  const params = c.params(raw['params'], `${at}.params`);
  const recordsPath = c.string(raw['records_path'], `${at}.records_path`, false);
  const typePath = c.string(raw['type_path'], `${at}.type_path`, true);
  const timePath = c.string(raw['time_path'], `${at}.time_path`, true);
  const objectPath = c.string(raw['object_path'], `${at}.object_path`, true);
  const newestFirst = c.boolean(raw['newest_first'], `${at}.newest_first`) ?? false;
  const retentionDays = c.number(raw['retention_days'], `${at}.retention_days`, 1);
  // The event time plays the replication key's part for the feed's own bound.
  const incremental = raw['incremental'] === undefined ? undefined : parseIncremental(c, raw['incremental'], `${at}.incremental`, timePath ?? 'time');
  if (raw['incremental'] === undefined) c.problem(`${at}.incremental`, 'required: {"param": …, "format": …}, how the feed is asked for the events since the bookmark');
  else if (incremental !== undefined && incremental.param === undefined) c.problem(`${at}.incremental.param`, 'required: the parameter that bounds the event time');
  const pagination = parsePagination(c, raw['pagination'], `${at}.pagination`, undefined, incremental);
  if (path === undefined || typePath === undefined || timePath === undefined || objectPath === undefined || incremental === undefined || pagination === undefined) return undefined;
  return {
    name, path, params, recordsPath, pagination, incremental, typePath, timePath, objectPath, newestFirst,
    retentionDays,
  };
}

export function parseStreamChanges(c: Checker, raw: JsonValue | undefined, at: string): RestStreamChanges | undefined {
  if (raw === undefined || !c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, STREAM_KEYS);
  const feed = c.string(raw['feed'], `${at}.feed`, true);
  const params = c.params(raw['params'], `${at}.params`);
  const events = c.names(raw['events'], `${at}.events`);
  const deletedEvents = c.names(raw['deleted_events'], `${at}.deleted_events`) ?? [];
  if (feed === undefined) return undefined;
  return { feed, params, events, deletedEvents };
}
