import type { FetchContext, WebhookSpec } from '../../src/connector/contract.js';
import { SourceError } from '../../src/errors.js';
import type { HttpClient } from '../../src/http/client.js';
import { HttpStatusError } from '../../src/http/errors.js';
import { valueAt } from '../../src/http/paginate.js';
import { isJsonObject, stringifyJson, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import type { RestItem, RestStream } from './description/index.js';
import { meets, openRestSession, type RestSession } from './streams.js';
import { shapeOf } from './unnest.js';

/**
 * Thin webhook events name an object without carrying it; the drain asks the connector for the
 * objects, and this reads each through its stream's `item_path` with the description's auth,
 * limits and retries. An object the API no longer has (410, a 404, or one that meets the
 * stream's `deleted_when`) comes back as null: a deletion. A 404 is also what a wrong
 * `item_path` gets for every object, and taking that for deletions would mark live rows
 * deleted: so a 404 counts as a deletion only once the stream's `item_path` has answered
 * with an object; before that, its delivery becomes a dead letter that says so (and can be
 * retried once the path is right).
 */

/** Objects in flight at once: a batch of a hundred deliveries does not wait for a hundred round trips in a row. */
const CONCURRENCY = 4;

export function objectFetcher(config: JsonObject, streams: readonly RestStream[]): NonNullable<WebhookSpec['fetchObjects']> {
  let session: RestSession | undefined;
  /** Streams whose item_path has answered with an object: their 404s are deletions. */
  const proven = new Set<string>();
  return async (name, keys, context: FetchContext) => {
    const stream = streams.find((s) => s.name === name);
    const item = stream?.item;
    if (stream === undefined || item === undefined) throw new SourceError(`stream ${name} has no item_path to fetch objects by`);
    // One session for the listener's life: its OAuth token and request budget carry over.
    session ??= openRestSession(config, { log: context.log, signal: context.signal });
    const client = session.clientFor(context.log, context.signal);
    try {
      const out = new Array<Answer>(keys.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < keys.length) {
          const i = next++;
          out[i] = await fetchOne(client, stream, item, keys[i] as JsonObject);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, keys.length) }, worker));
      if (out.some((a) => isJsonObject(a) || a === null)) proven.add(name);
      return out.map((a): JsonObject | null | Error => {
        if (a !== NOT_FOUND) return a;
        if (proven.has(name)) return null;
        return new Error(`${item.path} answered 404 for this ${name} object, and has not yet answered with any object: a wrong item_path would look the same, so it is not taken for a deletion (check item_path, then sync inbox retry-dead)`);
      });
    } finally {
      await client.close();
    }
  };
}

/** A 404: deleted, or a wrong path. */
const NOT_FOUND = Symbol('not found');
type Answer = JsonObject | null | typeof NOT_FOUND;

async function fetchOne(client: HttpClient, stream: RestStream, item: RestItem, key: JsonObject): Promise<Answer> {
  let path = item.path;
  for (const property of stream.primaryKey) {
    const value = key[property];
    path = path.replaceAll(`{${property}}`, encodeURIComponent(typeof value === 'string' ? value : stringifyJson(value ?? null)));
  }
  let body: JsonValue;
  try {
    body = (await client.request({ path, expectJson: true })).json();
  } catch (err) {
    if (err instanceof HttpStatusError && err.status === 410) return null;
    if (err instanceof HttpStatusError && err.status === 404) return NOT_FOUND;
    throw err;
  }
  const found = item.recordPath === undefined ? body : valueAt(body, item.recordPath);
  if (!isJsonObject(found)) {
    throw new SourceError(`stream ${stream.name}: the answer for ${stringifyJson(key)} holds no object${item.recordPath === undefined ? '' : ` at ${item.recordPath}`}`);
  }
  // The record a listing of the stream gives for the same object.
  const object = shapeOf(stream)?.(found) ?? found;
  if (stream.deletedWhen !== undefined && meets(stream.deletedWhen)(object)) return null;
  return object;
}
