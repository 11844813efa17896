import { isJsonObject, type JsonObject, type JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import { parseIncremental } from './incremental.js';
import { parseStreamChanges } from './change-feeds.js';
import { parseDeletedWhen } from './deletes.js';
import { parsePagination } from './paging.js';
import { checkNoLastPlaceholder, parseGraphql, requestUsesBookmark } from './request.js';
import type { RestItem, RestParent, RestStream, RestTombstones } from './types.js';

/** `streams[]`: one stream's request, keys, schema and parent. */

const STREAM_KEYS = [
  'name', 'path', 'method', 'records_path', 'primary_key', 'replication_key', 'version_key', 'sorted', 'start_date',
  'incremental', 'pagination', 'params', 'body', 'schema', 'description', 'parent', 'graphql', 'records_optional', 'deleted_when', 'keep_when',
  'variants', 'reconcile_deletes', 'change_feed', 'tombstones_for', 'item_path', 'item_record_path', 'unnest',
];
const SNAKE = /^[a-z][a-z0-9_]*$/;

export function parseStream(c: Checker, raw: JsonValue, at: string): RestStream | undefined {
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, STREAM_KEYS);
  const name = c.string(raw['name'], `${at}.name`, true);
  if (name !== undefined && !SNAKE.test(name)) c.problem(`${at}.name`, `must be snake_case (a-z, 0-9, _), it names tables and bookmarks (got ${JSON.stringify(name)})`);
  const path = c.string(raw['path'], `${at}.path`, true);
  const description = c.string(raw['description'], `${at}.description`, false);
  const method = (c.oneOf(raw['method'], `${at}.method`, ['GET', 'POST'], false) ?? 'GET') as 'GET' | 'POST';
  const recordsPath = c.string(raw['records_path'], `${at}.records_path`, false);
  const primaryKey = c.keyList(raw['primary_key'], `${at}.primary_key`);
  const replicationKey = c.string(raw['replication_key'], `${at}.replication_key`, false);
  const versionKey = c.string(raw['version_key'], `${at}.version_key`, false);
  if (versionKey !== undefined && replicationKey !== undefined) {
    c.problem(`${at}.version_key`, 'a stream with a replication_key is versioned by it: give version_key only to a stream read in full');
  }
  const sorted = c.boolean(raw['sorted'], `${at}.sorted`) ?? false;
  const startDate = c.dateTime(raw['start_date'], `${at}.start_date`);
  const params = c.params(raw['params'], `${at}.params`);
  const body = raw['body'] === undefined ? undefined : c.object(raw['body'], `${at}.body`) ? raw['body'] : undefined;
  const schema = raw['schema'] === undefined ? undefined : c.object(raw['schema'], `${at}.schema`) ? raw['schema'] : undefined;
  if (schema !== undefined && !isJsonObject(schema['properties'])) c.problem(`${at}.schema.properties`, 'required: a JSON Schema of one record, an object with "properties"');
  const graphql = parseGraphql(c, raw['graphql'], `${at}.graphql`);
  if (graphql !== undefined && (raw['method'] !== undefined || raw['body'] !== undefined)) {
    c.problem(`${at}.graphql`, 'a GraphQL stream is a POST of {query, variables}: leave out method and body');
  }
  const usesBookmark = requestUsesBookmark(path ?? '', params, graphql === undefined ? body : graphql.variables);
  checkNoLastPlaceholder(c, path ?? '', params, graphql === undefined ? body : graphql.variables, at);
  const incremental = parseIncremental(c, raw['incremental'], `${at}.incremental`, replicationKey, usesBookmark);
  if (incremental?.newestFirst === true && sorted) c.problem(`${at}.sorted`, 'the listing is newest first (incremental.newest_first): it is not sorted ascending, leave sorted out');
  const recordsOptional = c.boolean(raw['records_optional'], `${at}.records_optional`) ?? false;
  const deletedWhen = parseDeletedWhen(c, raw['deleted_when'], `${at}.deleted_when`);
  const keepWhen = parseDeletedWhen(c, raw['keep_when'], `${at}.keep_when`);
  const variants: Array<Record<string, string | number | boolean>> = [];
  const rawVariants = raw['variants'];
  if (rawVariants !== undefined) {
    if (!Array.isArray(rawVariants) || rawVariants.length === 0) c.problem(`${at}.variants`, 'must be a non-empty list of params objects, each read after the stream\'s own');
    else {
      rawVariants.forEach((v, i) => {
        if (c.object(v, `${at}.variants[${i}]`)) variants.push(c.params(v, `${at}.variants[${i}]`));
      });
    }
    // Each variant is a listing of its own: ascending order cannot hold across them.
    if (sorted) c.problem(`${at}.sorted`, 'cannot hold across variants (each is a listing of its own): leave it out');
  }
  const pagination = parsePagination(c, raw['pagination'], `${at}.pagination`, replicationKey, incremental);
  const parent = parseParent(c, raw['parent'], `${at}.parent`);
  if (parent !== undefined && path !== undefined && !usesParent(path, params, graphql === undefined ? body : graphql.variables)) {
    c.problem(`${at}.path`, 'a child stream must use {parent} in its path, a param value, the body or the GraphQL variables');
  }
  const changes = parseStreamChanges(c, raw['change_feed'], `${at}.change_feed`);
  if (changes !== undefined) {
    if (replicationKey === undefined) c.problem(`${at}.change_feed`, 'needs a replication_key on the stream: the property that holds the time of the change (written from the event time when the object has none)');
    if (raw['incremental'] !== undefined) c.problem(`${at}.incremental`, 'a stream read from a change feed is bounded by the feed\'s incremental rule: leave it out');
    if (sorted) c.problem(`${at}.sorted`, 'a change feed is not read in the order of the stream\'s replication key: leave it out');
  }
  const tombstonesFor = parseTombstones(c, raw['tombstones_for'], `${at}.tombstones_for`);
  if (tombstonesFor !== undefined) {
    for (const key of ['deleted_when', 'reconcile_deletes', 'change_feed', 'variants'] as const) {
      if (raw[key] !== undefined) c.problem(`${at}.${key}`, 'a tombstone listing marks rows of another stream: not with tombstones_for');
    }
  }
  const item = parseItem(c, raw, at, primaryKey);
  const unnest = c.string(raw['unnest'], `${at}.unnest`, false);
  const reconcileDeletes = parseReconcile(c, raw['reconcile_deletes'], `${at}.reconcile_deletes`, startDate, primaryKey, parent !== undefined);
  if (name === undefined || path === undefined || primaryKey === undefined || pagination === undefined) return undefined;
  return {
    name, description, path, method: graphql === undefined ? method : 'POST', recordsPath, primaryKey, replicationKey, versionKey, sorted, startDate,
    incremental, pagination, params, body, schema, parent, graphql, recordsOptional, deletedWhen, keepWhen, variants, reconcileDeletes, changes,
    tombstonesFor, item, unnest,
  };
}

/**
 * `reconcile_deletes`: `true` (at most a tenth of the table) or `{"max_share": 0.25}`. Only a
 * read that sees every live object can tell what is gone: not one bounded by a start date,
 * not a child stream (read per parent), not a stream without keys.
 */
function parseReconcile(
  c: Checker,
  raw: JsonValue | undefined,
  at: string,
  startDate: string | undefined,
  keys: string[] | undefined,
  child: boolean,
): { maxShare: number } | undefined {
  if (raw === undefined || raw === false) return undefined;
  let maxShare = 0.1;
  if (raw !== true) {
    if (!c.object(raw, at)) return undefined;
    c.unknownKeys(raw, at, ['max_share']);
    const share = c.number(raw['max_share'], `${at}.max_share`, 0);
    if (share !== undefined && share > 1) c.problem(`${at}.max_share`, 'is a share of the table, from 0 to 1 (0.1: a tenth)');
    else if (share !== undefined) maxShare = share;
  }
  if (startDate !== undefined) c.problem(at, 'a read bounded by start_date does not see every object: leave out the stream\'s start_date');
  if (child) c.problem(at, 'a child stream is read per parent: not for child streams');
  if (keys !== undefined && keys.length === 0) c.problem(at, 'needs a primary_key: rows are told apart by it');
  return { maxShare };
}

/** `tombstones_for`: `"items"`, or `{"stream": "items", "keys": {"id": "item_id"}}` when the key is named otherwise. */
function parseTombstones(c: Checker, raw: JsonValue | undefined, at: string): RestTombstones | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && raw !== '') return { stream: raw, keys: {} };
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, ['stream', 'keys']);
  const stream = c.string(raw['stream'], `${at}.stream`, true);
  const keys = c.stringMap(raw['keys'], `${at}.keys`);
  return stream === undefined ? undefined : { stream, keys };
}

/** `item_path`: one object by its key, each primary-key property written where `{<property>}` stands. */
function parseItem(c: Checker, raw: JsonObject, at: string, keys: string[] | undefined): RestItem | undefined {
  const path = c.string(raw['item_path'], `${at}.item_path`, false);
  const recordPath = c.string(raw['item_record_path'], `${at}.item_record_path`, false);
  if (path === undefined) {
    if (recordPath !== undefined) c.problem(`${at}.item_record_path`, 'only with item_path');
    return undefined;
  }
  if (keys !== undefined && keys.length === 0) c.problem(`${at}.item_path`, 'needs a primary_key: objects are fetched by it');
  for (const key of keys ?? []) if (!path.includes(`{${key}}`)) c.problem(`${at}.item_path`, `must hold {${key}}, where the key goes`);
  return { path, recordPath };
}

function usesParent(path: string, params: Record<string, string | number | boolean>, body: JsonObject | undefined): boolean {
  return [path, ...Object.values(params).map(String), JSON.stringify(body ?? {})].some((t) => t.includes('{parent}'));
}

function parseParent(c: Checker, raw: JsonValue | undefined, at: string): RestParent | undefined {
  if (raw === undefined || !c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, ['stream', 'key', 'as']);
  const stream = c.string(raw['stream'], `${at}.stream`, true);
  const key = c.string(raw['key'], `${at}.key`, true);
  const as = c.string(raw['as'], `${at}.as`, true);
  return stream === undefined || key === undefined || as === undefined ? undefined : { stream, key, as };
}

