import { UsageError } from '../errors.js';
import { parseInstant } from '../protocol/instant.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';
import { clearBookmark, setBookmark, type SyncState } from '../protocol/state.js';

/**
 * The changes `sync state set` makes, as pure functions of the stored state: one stream's
 * bookmark, or a given state merged stream by stream. Replacing the whole state needs no
 * function: it is the given state.
 */

/** What is known of a stream's replication key, from the connector or the stored bookmark. */
export interface BookmarkKey {
  name: string;
  /** JSON Schema of the key's property, when the connector declares the stream. */
  schema?: JsonObject;
}

/**
 * The state with `stream`'s bookmark set to `text` and every other bookmark kept. The stream's
 * old bookmark is replaced as a whole (per-partition bookmarks included): the next run reads
 * the stream from `text`.
 */
export function withBookmark(current: SyncState, stream: string, key: BookmarkKey, text: string): SyncState {
  return setBookmark(clearBookmark(current, stream), stream, key.name, bookmarkValue(stream, key, text));
}

/** `text` typed as the key's property is: a number for numeric keys, checked as an instant for date-times. */
export function bookmarkValue(stream: string, key: BookmarkKey, text: string): JsonValue {
  const types = typesOf(key.schema);
  if (!types.includes('string') && (types.includes('integer') || types.includes('number'))) {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || (!types.includes('number') && !Number.isInteger(n))) {
      throw new UsageError(`--value: the bookmark of ${stream} is its ${key.name}, a number; got ${JSON.stringify(text)}`);
    }
    return n;
  }
  if (key.schema?.['format'] === 'date-time' && parseInstant(text) === undefined) {
    throw new UsageError(`--value: the bookmark of ${stream} is its ${key.name}, a date-time such as 2025-06-01T00:00:00Z; got ${JSON.stringify(text)}`);
  }
  return text;
}

function typesOf(schema: JsonObject | undefined): string[] {
  const type = schema?.['type'];
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : [];
}

/**
 * `given` laid over the stored state: each stream bookmark it holds replaces that stream's,
 * the others stay; its other top-level keys (`currently_syncing`...) replace theirs. Keys it
 * does not mention are kept as stored, whatever their shape (a tap's own state, say).
 */
export function mergeState(stored: JsonValue | undefined, given: JsonValue): JsonValue {
  if (!isJsonObject(given)) return stored ?? null;
  const base: JsonObject = isJsonObject(stored) ? stored : {};
  const merged: JsonObject = { ...base, ...given };
  const before = base['bookmarks'];
  const after = given['bookmarks'];
  if (isJsonObject(before) && isJsonObject(after)) merged['bookmarks'] = { ...before, ...after };
  return merged;
}

/** The replication key a stored bookmark names, if it names one. */
export function storedKey(current: SyncState, stream: string): string | undefined {
  const key = current.bookmarks[stream]?.['replication_key'];
  return typeof key === 'string' ? key : undefined;
}
