import type { StreamContext } from '../../src/connector/contract.js';
import { eventTime, withVersion } from '../../src/connector/versions.js';
import { SourceError } from '../../src/errors.js';
import type { HttpClient } from '../../src/http/client.js';
import { lowerBound, toMicros, withBound } from '../../src/http/incremental.js';
import { paginate, valueAt } from '../../src/http/paginate.js';
import { formatInstantMs, instantFromDate } from '../../src/protocol/instant.js';
import { isJsonObject, stringifyJson, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import type { RestChangeFeed, RestStream, RestStreamChanges } from './description/index.js';
import { shapeOf } from './unnest.js';

/**
 * A stream read through a change feed (`change_feed`): the events since the bookmark, each
 * event's object applied to the stream with the event time as its version, deletions marked at
 * that time. The stream's replication key holds the time of the change: from the event when
 * the object has no value of its own, and, in a full read, the time the read started (every
 * change before it is in what the list shows), so the bookmark a full read leaves is where the
 * feed takes over, and a webhook carrying the same event gives the same record.
 */

const DAY_MS = 86_400_000;

/**
 * Whether this run reads the feed: there is a bookmark, and the feed still holds the events
 * after it. Otherwise the stream is listed in full (the first run, `--full-refresh`, or a
 * bookmark older than the feed keeps events, whose changes are lost from the feed).
 */
export function readsFeed(stream: RestStream, feed: RestChangeFeed, ctx: StreamContext<JsonObject>): boolean {
  const bookmark = ctx.bookmark;
  if (bookmark === undefined || bookmark === null) return false;
  if (feed.retentionDays === undefined) return true;
  const micros = toMicros(bookmark, feed.incremental.format);
  // A bookmark whose time cannot be told is trusted: a full read on every run would be worse.
  if (micros === undefined || micros / 1000 >= ctx.startedAt.getTime() - feed.retentionDays * DAY_MS) return true;
  ctx.log.info(
    `stream ${stream.name}: the bookmark ${stringifyJson(bookmark)} is older than the ${feed.retentionDays} days ${feed.name} keeps events: reading the stream in full`,
  );
  return false;
}

/** The events of the stream since the bookmark, as records of the stream, a page at a time. */
export async function* readFeed(
  stream: RestStream,
  feed: RestChangeFeed,
  ctx: StreamContext<JsonObject>,
  client: HttpClient,
  versionProperty: JsonValue | undefined,
): AsyncGenerator<JsonObject[]> {
  const changes = stream.changes as RestStreamChanges;
  const key = stream.replicationKey as string;
  const bound = lowerBound(ctx.bookmark, undefined, feed.incremental);
  ctx.log.debug(`stream ${stream.name}: reading ${feed.name} since ${stringifyJson(bound ?? null)}`);
  const request = withBound({ method: 'GET', path: feed.path, query: { ...feed.params, ...changes.params } }, bound, feed.incremental);
  const wanted = changes.events === undefined ? undefined : new Set([...changes.events, ...changes.deletedEvents]);
  const deleted = new Set(changes.deletedEvents);
  // Newest first: the first event of an object in this read is its latest state.
  const taken = feed.newestFirst ? new Set<string>() : undefined;
  const receivedAt = ctx.startedAt.toISOString();
  const shape = shapeOf(stream);
  const pages = paginate(client, request, feed.pagination, { stream: `${stream.name} (${feed.name})`, recordsPath: feed.recordsPath, signal: ctx.signal });
  for await (const page of pages) {
    const records: JsonObject[] = [];
    page.records.forEach((event, i) => {
      const type = valueAt(event, feed.typePath);
      if (wanted !== undefined && (typeof type !== 'string' || !wanted.has(type))) return;
      const where = `stream ${stream.name}: event ${i + 1} of page ${page.index + 1} of ${feed.name}${typeof event['id'] === 'string' ? ` (${event['id']})` : ''}`;
      const found = valueAt(event, feed.objectPath);
      if (!isJsonObject(found)) throw new SourceError(`${where} has no object at ${feed.objectPath}`);
      const object = shape === undefined ? found : shape(found);
      const time = eventTime(valueAt(event, feed.timePath));
      if (time === undefined) throw new SourceError(`${where} has no time at ${feed.timePath} (RFC 3339 or epoch seconds)`);
      if (taken !== undefined) {
        const id = stringifyJson(stream.primaryKey.map((k) => object[k] ?? null));
        if (taken.has(id)) return;
        taken.add(id);
      }
      const isDeletion = typeof type === 'string' && deleted.has(type);
      records.push(withVersion({ stream: stream.name, record: object, deleted: isDeletion, time }, key, receivedAt, versionProperty));
    });
    if (records.length > 0) yield records;
  }
}

/**
 * A full read's record: the replication key, when the object has none, is the read's start,
 * in whole seconds. Event times are often whole seconds (epoch seconds): a change in the same
 * second as the start then ties with the listed copy, and a tie goes to the copy written last,
 * the event, which is at least as new.
 */
export function stampedAtStart(key: string, startedAt: Date): (record: JsonObject) => JsonObject {
  const at = formatInstantMs(Math.floor(instantFromDate(startedAt) / 1_000_000) * 1_000_000);
  return (record) => (record[key] === undefined || record[key] === null ? { ...record, [key]: at } : record);
}
