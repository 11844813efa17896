import type { EndpointLimit } from '../../../src/http/budget.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../../src/protocol/json.js';
import { parseAuth } from './auth.js';
import { parseChangeFeeds } from './change-feeds.js';
import { Checker } from './checker.js';
import { parseErrorRules } from './errors.js';
import { parseStream } from './stream.js';
import { SECRET_SETTINGS, WEBHOOK_SECRET_SETTINGS, type RestDescription, type RestRateLimit, type RestStream } from './types.js';
import { parseWebhooks } from './webhooks.js';

/**
 * The API description a `rest` config file holds, checked once: every problem is reported
 * with its JSON path (`streams[1].pagination.cursor_path: required`), then the rest of the
 * connector works with the typed `RestDescription`. Each part of the language has its own
 * module and checker: auth, stream (the request), incremental, paging, webhooks.
 */

export * from './types.js';

/** Every top-level key of a description; the connector's settings list each of them. */
export const TOP_KEYS = ['base_url', 'headers', 'auth', 'start_date', 'streams', 'refresh_token_file', 'webhooks', 'rate_limit', 'errors', 'change_feeds', ...SECRET_SETTINGS, ...WEBHOOK_SECRET_SETTINGS];

/** Reads the description out of a validated config; throws nothing, returns the problems instead. */
export function parseDescription(config: JsonObject, options: { credentialsOptional?: boolean } = {}): { description: RestDescription | undefined; problems: string[] } {
  const c = new Checker();
  c.unknownKeys(config, '', TOP_KEYS);
  const baseUrl = c.url(config['base_url'], 'base_url', true);
  const headers = c.stringMap(config['headers'], 'headers');
  const auth = parseAuth(c, config['auth'], config, options.credentialsOptional === true);
  const startDate = c.dateTime(config['start_date'], 'start_date');
  const changeFeeds = parseChangeFeeds(c, config['change_feeds'], 'change_feeds');
  const streams: RestStream[] = [];
  const broken = new Set<string>();
  const list = config['streams'];
  if (list === undefined) c.problem('streams', 'required');
  else if (!Array.isArray(list) || list.length === 0) c.problem('streams', 'must be a non-empty array of streams');
  else {
    const names = new Set<string>();
    list.forEach((raw, i) => {
      const s = parseStream(c, raw, `streams[${i}]`);
      if (s === undefined) {
        // Its own problems are reported; references to it are not problems of their own.
        if (isJsonObject(raw) && typeof raw['name'] === 'string') broken.add(raw['name']);
        return;
      }
      if (names.has(s.name)) c.problem(`streams[${i}].name`, `duplicate stream name ${JSON.stringify(s.name)}`);
      if (s.parent !== undefined && !names.has(s.parent.stream) && !broken.has(s.parent.stream)) {
        c.problem(`streams[${i}].parent.stream`, `must name an earlier stream (${names.size ? [...names].join(', ') : 'none before this one'}), got ${JSON.stringify(s.parent.stream)}`);
      }
      if (s.reconcileDeletes !== undefined && startDate !== undefined) {
        c.problem(`streams[${i}].reconcile_deletes`, 'a read bounded by start_date does not see every object: not with a top-level start_date');
      }
      if (s.changes !== undefined && !changeFeeds.has(s.changes.feed) && config['change_feeds'] !== undefined) {
        c.problem(`streams[${i}].change_feed.feed`, `must name one of change_feeds (${[...changeFeeds.keys()].join(', ') || 'none is valid'}), got ${JSON.stringify(s.changes.feed)}`);
      } else if (s.changes !== undefined && config['change_feeds'] === undefined) {
        c.problem(`streams[${i}].change_feed.feed`, `names ${JSON.stringify(s.changes.feed)}, but the description has no change_feeds section`);
      }
      if (s.changes !== undefined && s.parent !== undefined) c.problem(`streams[${i}].change_feed`, 'not for child streams');
      const tombstones = s.tombstonesFor;
      if (tombstones !== undefined) {
        const target = streams.find((t) => t.name === tombstones.stream);
        if (target === undefined) {
          if (!broken.has(tombstones.stream)) c.problem(`streams[${i}].tombstones_for`, `must name an earlier stream (${names.size ? [...names].join(', ') : 'none before this one'}), got ${JSON.stringify(tombstones.stream)}`);
        } else if (target.primaryKey.length === 0) {
          c.problem(`streams[${i}].tombstones_for`, `stream ${target.name} has no primary_key: its rows cannot be told apart`);
        } else if (target.tombstonesFor !== undefined) {
          c.problem(`streams[${i}].tombstones_for`, `stream ${target.name} is itself a tombstone listing`);
        } else {
          for (const key of Object.keys(tombstones.keys)) {
            if (!target.primaryKey.includes(key)) c.problem(`streams[${i}].tombstones_for.keys.${key}`, `is not a primary_key property of ${target.name} (${target.primaryKey.join(', ')})`);
          }
        }
      }
      names.add(s.name);
      streams.push(s);
    });
  }
  const webhooks = config['webhooks'] === undefined ? undefined : parseWebhooks(c, config['webhooks'], 'webhooks', streams, broken);
  const rateLimit = parseRateLimit(c, config['rate_limit']);
  const errors = parseErrorRules(c, config['errors'], 'errors');
  if (c.problems.length > 0 || baseUrl === undefined || auth === undefined) return { description: undefined, problems: c.problems };
  return { description: { baseUrl: baseUrl.replace(/\/+$/, ''), headers, auth, startDate, streams, webhooks, rateLimit, errors, changeFeeds }, problems: [] };
}

function parseRateLimit(c: Checker, raw: JsonValue | undefined): RestRateLimit {
  if (raw === undefined || !c.object(raw, 'rate_limit')) return {};
  c.unknownKeys(raw, 'rate_limit', ['requests_per_second', 'max_concurrent', 'reset_header', 'endpoints']);
  const header = c.string(raw['reset_header'], 'rate_limit.reset_header', false);
  const endpoints: EndpointLimit[] = [];
  const list = raw['endpoints'];
  if (list !== undefined && !Array.isArray(list)) c.problem('rate_limit.endpoints', 'must be an array of {"path", "requests_per_second", "max_concurrent"}');
  else if (list !== undefined) {
    list.forEach((item, i) => {
      const at = `rate_limit.endpoints[${i}]`;
      if (!c.object(item, at)) return;
      c.unknownKeys(item, at, ['path', 'requests_per_second', 'max_concurrent']);
      const path = c.string(item['path'], `${at}.path`, true);
      const limits = parseLimits(c, item, at);
      if (path === undefined) return;
      if (!path.startsWith('/')) c.problem(`${at}.path`, 'must start with "/" (segments, "*" for any one)');
      if (item['requests_per_second'] === undefined && item['max_concurrent'] === undefined) c.problem(at, 'needs requests_per_second or max_concurrent');
      endpoints.push({ path, ...limits });
    });
  }
  return {
    ...parseLimits(c, raw, 'rate_limit'),
    ...(header === undefined ? {} : { resetHeader: header }),
    ...(endpoints.length ? { endpoints } : {}),
  };
}

/** `requests_per_second` and `max_concurrent` of the section or of one endpoint. */
function parseLimits(c: Checker, raw: JsonObject, at: string): { requestsPerSecond?: number; maxConcurrent?: number } {
  const perSecond = c.number(raw['requests_per_second'], `${at}.requests_per_second`, 0.001);
  const concurrent = c.number(raw['max_concurrent'], `${at}.max_concurrent`, 1);
  if (concurrent !== undefined && !Number.isInteger(concurrent)) c.problem(`${at}.max_concurrent`, 'must be an integer');
  return {
    ...(perSecond === undefined ? {} : { requestsPerSecond: perSecond }),
    ...(concurrent === undefined ? {} : { maxConcurrent: concurrent }),
  };
}
