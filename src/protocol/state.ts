import { compareInstants, isPlainUtc, parseInstantParts } from './instant.js';
import { LosslessNumber, isJsonObject, type JsonObject, type JsonValue } from './json.js';

/**
 * The Singer state reducer. State is `{currently_syncing, bookmarks: {<stream>:
 * {replication_key, replication_key_value}}}`; every function here is pure and returns a
 * new state, so a state already handed to a target is never changed behind its back.
 */

export interface Bookmark extends JsonObject {
  replication_key: string;
  replication_key_value: JsonValue;
}

export interface SyncState extends JsonObject {
  currently_syncing: string | null;
  bookmarks: { [stream: string]: JsonObject };
}

export class StateError extends Error {
  override name = 'StateError';
}

export function emptyState(): SyncState {
  return { currently_syncing: null, bookmarks: {} };
}

/** Reads a state value as given by `--state` or a target; anything but an object is refused. */
export function toSyncState(value: JsonValue | undefined): SyncState {
  if (value === undefined || value === null) return emptyState();
  if (!isJsonObject(value)) throw new StateError('state must be a JSON object');
  const bookmarks = value['bookmarks'];
  if (bookmarks !== undefined && bookmarks !== null && !isJsonObject(bookmarks)) {
    throw new StateError('state.bookmarks must be an object');
  }
  const out: JsonObject = {};
  for (const stream of Object.keys(bookmarks ?? {})) {
    const entry = (bookmarks as JsonObject)[stream];
    if (isJsonObject(entry)) out[stream] = entry;
  }
  const current = value['currently_syncing'];
  return {
    ...value,
    currently_syncing: typeof current === 'string' ? current : null,
    bookmarks: out as SyncState['bookmarks'],
  };
}

/**
 * The stored bookmark of a stream for a replication key. Accepts the SDK shape
 * (`replication_key`/`replication_key_value`) and the classic shape (`{<key>: value}`).
 * A bookmark kept for a different replication key does not apply.
 */
export function getBookmark(state: SyncState, stream: string, replicationKey: string): JsonValue | undefined {
  const entry = state.bookmarks[stream];
  if (!entry) return undefined;
  if (entry['replication_key'] !== undefined) {
    return entry['replication_key'] === replicationKey ? entry['replication_key_value'] : undefined;
  }
  return entry[replicationKey];
}

export function setBookmark(state: SyncState, stream: string, replicationKey: string, value: JsonValue): SyncState {
  const previous = state.bookmarks[stream] ?? {};
  const entry: JsonObject = { ...previous, replication_key: replicationKey, replication_key_value: value };
  return { ...state, bookmarks: { ...state.bookmarks, [stream]: entry } };
}

/** Per-partition bookmarks are kept for at most this many partitions (parents) per stream. */
export const MAX_PARTITIONS = 10_000;

/**
 * Bookmarks of a partitioned stream (one per parent object, say), kept under
 * `bookmarks.<stream>.partitions`. Empty when none are stored for this replication key.
 */
export function getPartitionBookmarks(state: SyncState, stream: string, replicationKey: string): Record<string, JsonValue> {
  const entry = state.bookmarks[stream];
  if (!entry || entry['replication_key'] !== replicationKey) return {};
  const partitions = entry['partitions'];
  return isJsonObject(partitions) ? { ...partitions } : {};
}

/**
 * Stores per-partition bookmarks. Beyond `max` partitions the state would grow without
 * bound, so they collapse into one stream bookmark, the smallest of them: every partition
 * then re-reads from there (more duplicates, upserted; nothing skipped).
 */
export function setPartitionBookmarks(
  state: SyncState,
  stream: string,
  replicationKey: string,
  partitions: Record<string, JsonValue>,
  max = MAX_PARTITIONS,
): SyncState {
  const values = Object.values(partitions);
  let entry: JsonObject;
  if (values.length <= max) {
    entry = { replication_key: replicationKey, partitions };
    const floor = getBookmark(state, stream, replicationKey);
    if (floor !== undefined) entry['replication_key_value'] = floor;
  } else {
    let smallest: JsonValue | undefined;
    for (const v of values) if (smallest === undefined || compareBookmarkValues(v, smallest) < 0) smallest = v;
    entry = { replication_key: replicationKey, replication_key_value: smallest ?? null };
  }
  return { ...state, bookmarks: { ...state.bookmarks, [stream]: entry } };
}

export function clearBookmark(state: SyncState, stream: string): SyncState {
  const { [stream]: _cleared, ...bookmarks } = state.bookmarks;
  return { ...state, bookmarks };
}

export function setCurrentlySyncing(state: SyncState, stream: string | null): SyncState {
  return state.currently_syncing === stream ? state : { ...state, currently_syncing: stream };
}

/**
 * Order in which to sync streams: an interrupted run restarts with the stream it was in,
 * then goes on through every other stream (none is skipped).
 */
export function resumeOrder<T extends string>(streams: readonly T[], state: SyncState): T[] {
  const current = state.currently_syncing;
  const at = current === null ? -1 : streams.indexOf(current as T);
  if (at <= 0) return [...streams];
  return [...streams.slice(at), ...streams.slice(0, at)];
}

/**
 * Orders two bookmark values: date-times as instants (µs), numbers numerically (exactly,
 * for big integers), other strings by code unit. Throws when the kinds cannot be compared.
 */
export function compareBookmarkValues(a: JsonValue, b: JsonValue): number {
  if (typeof a === 'string' && typeof b === 'string') {
    // Same-width plain UTC texts sort as their instants: no parsing needed (the hot path).
    if (a.length === b.length && isPlainUtc(a) && isPlainUtc(b)) return a < b ? -1 : a > b ? 1 : 0;
    const ia = parseInstantParts(a);
    const ib = parseInstantParts(b);
    if (ia !== undefined && ib !== undefined) return compareInstants(ia, ib);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (isNumeric(a) && isNumeric(b)) return compareNumbers(a, b);
  throw new StateError(`cannot compare bookmark values ${describe(a)} and ${describe(b)}`);
}

/** The larger of two bookmark values; `undefined` stands for "none yet". */
export function maxBookmark(a: JsonValue | undefined, b: JsonValue | undefined): JsonValue | undefined {
  if (a === undefined || a === null) return b;
  if (b === undefined || b === null) return a;
  return compareBookmarkValues(a, b) >= 0 ? a : b;
}

export interface BookmarkRule {
  /** Records arrive in ascending order of the replication key. */
  sorted: boolean;
  /** The stream has been read to its end. */
  complete: boolean;
  /** Upper bound captured when the sync started (unsorted streams never go past it). */
  signpost?: JsonValue | undefined;
}

/**
 * The bookmark to save after reading records whose greatest replication value is `seen`.
 * Sorted streams advance as they go (resumable mid-stream). Unsorted streams keep the old
 * bookmark until the stream completes, then advance to `seen` capped at the signpost, so
 * records changed while the sync ran are read again next time. A bookmark never goes back.
 */
export function nextBookmark(
  previous: JsonValue | undefined,
  seen: JsonValue | undefined,
  rule: BookmarkRule,
): JsonValue | undefined {
  if (!rule.sorted && !rule.complete) return previous;
  let candidate = seen;
  if (!rule.sorted && rule.signpost !== undefined && candidate !== undefined && candidate !== null) {
    if (compareBookmarkValues(candidate, rule.signpost) > 0) candidate = rule.signpost;
  }
  return maxBookmark(previous, candidate);
}

function isNumeric(v: JsonValue): v is number | LosslessNumber {
  return typeof v === 'number' || v instanceof LosslessNumber;
}

function compareNumbers(a: number | LosslessNumber, b: number | LosslessNumber): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const ia = asBigInt(a);
  const ib = asBigInt(b);
  if (ia !== undefined && ib !== undefined) return ia < ib ? -1 : ia > ib ? 1 : 0;
  return Number(a) - Number(b);
}

function asBigInt(v: number | LosslessNumber): bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  return /^-?\d+$/.test(v.text) ? BigInt(v.text) : undefined;
}

function describe(v: JsonValue): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' && !(v instanceof LosslessNumber) ? 'an object' : JSON.stringify(String(v));
}
