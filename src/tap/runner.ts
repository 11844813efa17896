import { isRecordPage, versionKeyOf, type HttpSession, type StreamContext } from '../connector/contract.js';
import { InterruptedError, SourceError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatInstant, instantFromDate, parseInstant } from '../protocol/instant.js';
import type { JsonObject, JsonValue } from '../protocol/json.js';
import type { Message } from '../protocol/messages.js';
import {
  clearBookmark,
  compareBookmarkValues,
  getBookmark,
  getPartitionBookmarks,
  maxBookmark,
  nextBookmark,
  resumeOrder,
  setBookmark,
  setCurrentlySyncing,
  setPartitionBookmarks,
  type SyncState,
} from '../protocol/state.js';
import { selectedSchema, type SelectedStream } from './catalog.js';

/**
 * The tap runner: reads each selected stream of a connector and emits SCHEMA, RECORD and
 * STATE messages. STATE always follows the records it covers and carries the bookmarks of
 * every other stream forward. Sorted streams checkpoint as they go; unsorted streams only
 * when complete, capped at the time the run started (the signpost).
 */

const YIELD_EVERY_MS = 50;

export interface RunOptions {
  config: object;
  streams: SelectedStream[];
  state: SyncState;
  /** Ignore stored bookmarks of the selected streams and read everything. */
  fullRefresh: boolean;
  /** Receives every message; a returned promise is awaited before the next one (backpressure). */
  emit: (message: Message) => void | Promise<void>;
  log: Logger;
  signal: AbortSignal;
  /** Why the signal was aborted, for the exit code. */
  interruptedBy: () => 'SIGINT' | 'SIGTERM' | undefined;
  startedAt: Date;
  /** A STATE after this many records of a sorted stream... */
  stateEveryRecords: number;
  /** ...or after this long, whichever comes first. */
  stateEveryMs: number;
  /** Recording or replaying HTTP exchanges (--record / --replay). */
  http?: HttpSession;
}

export interface StreamSummary {
  stream: string;
  records: number;
  bookmark: JsonValue | undefined;
}

export async function runTap(options: RunOptions): Promise<{ streams: StreamSummary[]; state: SyncState }> {
  const { emit, log } = options;
  let state = options.state;
  if (options.fullRefresh) for (const s of options.streams) state = clearBookmark(state, s.definition.name);
  const byName = new Map(options.streams.map((s) => [s.definition.name, s]));
  const order = resumeOrder(
    options.streams.map((s) => s.definition.name),
    state,
  );
  if (state.currently_syncing !== null && byName.has(state.currently_syncing)) {
    log.info(`resuming: the last run stopped in stream ${state.currently_syncing}`);
  }
  const summaries: StreamSummary[] = [];
  for (const name of order) {
    const selected = byName.get(name) as SelectedStream;
    const result = await syncStream(selected, state, options);
    state = result.state;
    summaries.push(result.summary);
  }
  state = setCurrentlySyncing(state, null);
  await emit({ type: 'STATE', value: state });
  return { streams: summaries, state };
}

async function syncStream(
  selected: SelectedStream,
  initial: SyncState,
  options: RunOptions,
): Promise<{ state: SyncState; summary: StreamSummary }> {
  const { definition, excluded } = selected;
  const { emit, signal } = options;
  const name = definition.name;
  const key = definition.replicationKey;
  const sorted = definition.sorted === true;

  // A stream whose records belong to another (tombstones) opens that stream's table as that
  // stream itself does, and its records are partial: they set only what they carry.
  const into = definition.recordsInto;
  const recordStream = into?.stream ?? name;
  const schema: Message = into
    ? {
        type: 'SCHEMA',
        stream: into.stream,
        schema: into.schema,
        key_properties: [...into.keyProperties],
        ...(into.replicationKey ? { bookmark_properties: [into.replicationKey] } : {}),
      }
    : {
        type: 'SCHEMA',
        stream: name,
        schema: selectedSchema(selected),
        key_properties: [...definition.keyProperties],
        ...(versionKeyOf(definition) === undefined ? {} : { bookmark_properties: [versionKeyOf(definition) as string] }),
      };
  await emit(schema);

  let state = setCurrentlySyncing(initial, name);
  const startBookmark = key ? getBookmark(state, name, key) : undefined;
  const partitionOf = key ? definition.partitionOf?.bind(definition) : undefined;
  const startPartitions = key && partitionOf ? getPartitionBookmarks(state, name, key) : {};
  // A complete read with no bookmark sees every live object: rows it does not see were deleted.
  // Its records carry the read's table version; ACTIVATE_VERSION at the end retires the rest.
  const reconcile = definition.reconcileDeletes !== undefined && startBookmark === undefined && partitionOf === undefined;
  const tableVersion = reconcile ? options.startedAt.getTime() : undefined;
  /** Greatest replication value seen per partition (partitioned streams only). */
  const seenByPartition = new Map<string, JsonValue>();
  await emit({ type: 'STATE', value: state });

  const ctx: StreamContext<object> = {
    config: options.config,
    bookmark: startBookmark,
    state: initial,
    log: options.log,
    signal,
    startedAt: options.startedAt,
    ...(options.http ? { http: options.http } : {}),
    ...(partitionOf ? { partitionBookmark: (p: string) => startPartitions[p] ?? startBookmark } : {}),
  };
  let seen: JsonValue | undefined;
  let records = 0;
  let sinceState = 0;
  let lastStateAt = Date.now();
  let lastYieldAt = lastStateAt;

  const checkpoint = async (complete: boolean): Promise<void> => {
    if (!key) return;
    const signpost = !sorted && typeof seen === 'string' && parseInstant(seen) !== undefined
      ? formatInstant(instantFromDate(options.startedAt))
      : undefined;
    if (partitionOf) {
      const partitions = { ...startPartitions };
      for (const [partition, value] of seenByPartition) {
        const next = nextBookmark(startPartitions[partition] ?? startBookmark, value, { sorted, complete, signpost });
        if (next !== undefined) partitions[partition] = next;
      }
      state = setPartitionBookmarks(state, name, key, partitions);
    } else {
      const next = nextBookmark(startBookmark, seen, { sorted, complete, signpost });
      if (next !== undefined && next !== getBookmark(state, name, key)) state = setBookmark(state, name, key, next);
    }
    await emit({ type: 'STATE', value: state });
    sinceState = 0;
    lastStateAt = Date.now();
  };

  const iterator = definition.read(ctx)[Symbol.asyncIterator]();
  try {
    reading: for (;;) {
      if (signal.aborted) break;
      const step = await iterator.next();
      if (step.done) break;
      // A record, or a page of them (one trip through the async iterator for the whole page).
      const page = isRecordPage(step.value) ? step.value : undefined;
      const count = page ? page.length : 1;
      for (let i = 0; i < count; i++) {
        // Read again after each await: the check above the loop does not hold for ever.
        if (page && i > 0 && (signal.aborted as boolean)) break reading;
        const item = page ? (page[i] as JsonObject) : (step.value as JsonObject);
        const record = excluded.size ? withoutFields(item, excluded) : item;
        if (partitionOf && key) {
          const partition = partitionOf(record);
          const value = track(`${name} (partition ${partition})`, key, sorted, seenByPartition.get(partition), record[key]);
          if (value !== undefined) {
            seenByPartition.set(partition, value);
            seen ??= value;
          }
        } else if (key) {
          seen = track(name, key, sorted, seen, record[key]);
        }
        const message: Message = tableVersion === undefined ? { type: 'RECORD', stream: recordStream, record } : { type: 'RECORD', stream: recordStream, record, version: tableVersion };
        if (into !== undefined) message.partial = true;
        const pending = emit(message);
        if (pending) await pending;
        records++;
        if ((records & 1023) === 0 && Date.now() - lastYieldAt >= YIELD_EVERY_MS) {
          // A generator that never waits on I/O would starve timers and signal handlers.
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYieldAt = Date.now();
        }
        if (sorted && key && ++sinceState >= options.stateEveryRecords) await checkpoint(false);
        else if (sorted && key && (records & 255) === 0 && Date.now() - lastStateAt >= options.stateEveryMs) await checkpoint(false);
      }
    }
  } catch (err) {
    if (err instanceof SourceError || err instanceof InterruptedError) throw err;
    if (signal.aborted) throw interrupted(options);
    throw new SourceError(`stream ${name} failed: ${(err as Error).message}`, err);
  } finally {
    await iterator.return?.();
  }

  if (signal.aborted) {
    // Commit what was read; a sorted stream resumes after it, an unsorted one starts over.
    if (sorted) await checkpoint(false);
    throw interrupted(options);
  }
  if (tableVersion !== undefined && definition.reconcileDeletes !== undefined) {
    const guard = { maxShare: definition.reconcileDeletes.maxShare, since: options.startedAt.toISOString() };
    await emit({ type: 'ACTIVATE_VERSION', stream: name, version: tableVersion, guard });
  }
  await checkpoint(true);
  if (key && seen === undefined && startBookmark === undefined) {
    options.log.debug(`stream ${name}: no records, no bookmark yet`);
  }
  return { state, summary: { stream: name, records, bookmark: key ? getBookmark(state, name, key) : undefined } };
}

function interrupted(options: RunOptions): InterruptedError {
  return new InterruptedError(options.interruptedBy() ?? 'SIGTERM');
}

/** Keeps the greatest replication value seen; a sorted stream that goes backwards is a source bug. */
function track(stream: string, key: string, sorted: boolean, seen: JsonValue | undefined, value: JsonValue | undefined): JsonValue | undefined {
  if (value === undefined || value === null) return seen;
  if (seen === undefined || seen === null) return value;
  let order: number;
  try {
    order = compareBookmarkValues(value, seen);
  } catch (err) {
    throw new SourceError(`stream ${stream}: ${(err as Error).message} in "${key}"`);
  }
  if (order >= 0) return value;
  if (sorted) {
    throw new SourceError(
      `stream ${stream} is declared sorted by "${key}" but went back from ${JSON.stringify(seen)} to ${JSON.stringify(value)}`,
    );
  }
  return maxBookmark(seen, value);
}

function withoutFields(record: JsonObject, excluded: Set<string>): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(record)) if (!excluded.has(k)) out[k] = record[k] as JsonValue;
  return out;
}
