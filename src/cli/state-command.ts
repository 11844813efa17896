import { existsSync } from 'node:fs';
import type { AnyConnector } from '../connector/contract.js';
import { loadConnector } from '../connector/registry.js';
import { BusyError, UsageError } from '../errors.js';
import { isJsonObject, parseJson, stringifyJson, type JsonValue } from '../protocol/json.js';
import { clearBookmark, StateError, toSyncState, type SyncState } from '../protocol/state.js';
import { describeTarget, openTarget, type TargetSpec } from '../targets/spec.js';
import type { Target } from '../targets/target.js';
import { readJsonFile } from './files.js';
import type { Logger } from '../log.js';
import { cliLogger, type CliIo, type OutputOptions } from './io.js';
import { positiveInteger } from './options.js';
import { acquireRunLock, type RunLock } from './run-lock.js';
import { mergeState, storedKey, withBookmark, type BookmarkKey } from './state-edits.js';
import { chooseSnapshot, DEFAULT_HISTORY_LIMIT, listStateHistory, rewindTo } from './state-history.js';
import { targetSpecOf } from './target-spec.js';

export interface StateFlags extends OutputOptions {
  target: string;
  stateId?: string;
  /** set: the stream whose bookmark `value` becomes; clear: the only bookmark to clear. */
  stream?: string;
  /** set --stream: the new bookmark. */
  value?: string;
  /** set: the state to apply, from this file. */
  file?: string;
  /** set: the given state replaces the whole stored state, instead of being merged stream by stream. */
  replace?: boolean;
  /** rewind: the committed state to put back, by id or time. */
  to?: string;
  /** history: how many states to list. */
  limit?: string;
  /** history: text or one JSON object per line. */
  format?: 'text' | 'json';
}

const ACTIONS = ['show', 'set', 'clear', 'history', 'rewind'] as const;
type Action = (typeof ACTIONS)[number];

/** The state `sync target` keeps what it receives under, unless told otherwise. */
const TARGET_STATE_ID = 'singer';

/** What `set` was asked to do. */
type Change = { kind: 'bookmark'; stream: string; value: string } | { kind: 'merge' | 'replace'; state: JsonValue };

/**
 * `sync state show|set|clear <connector>`: the state a target keeps for a connector (or any
 * state id). `show` only reads and creates nothing; `set` and `clear` take the run lock.
 */
export async function stateCommand(action: string, first: string | undefined, second: string | undefined, flags: StateFlags, io: CliIo): Promise<void> {
  const verb = ACTIONS.find((a) => a === action);
  if (verb === undefined) throw new UsageError(`unknown state action ${JSON.stringify(action)}; use show, set, clear, history or rewind`);
  // `sync state set --state-id singer '{...}'`: the one argument is the state, not a connector.
  const [name, value] = first?.trimStart().startsWith('{') && second === undefined ? [undefined, first] : [first, second];
  if (name === undefined && flags.stateId === undefined) {
    throw new UsageError(`sync state ${verb} needs a connector (sync state ${verb} sample) or the id of a state (--state-id ID)`);
  }
  // An unknown connector is almost always a typo; --state-id without one opts out of the check.
  const connector = name === undefined ? undefined : await loadConnector(name);
  const stateId = flags.stateId ?? connector?.name ?? '';
  const spec = targetSpecOf(flags.target, io);
  if (spec.kind === 'stdout') throw new UsageError('target "-" keeps no state; state lives in the file given to --state');
  const log = cliLogger(io, flags);
  const where = describeTarget(spec);
  // Checked before anything is locked or opened: a mistaken command is refused while a run is busy too.
  const change = verb === 'set' ? plannedChange(value, flags) : undefined;
  if (verb !== 'set' && value !== undefined) throw new UsageError(`sync state ${verb} takes no state; did you mean sync state set?`);
  if (verb === 'show' && flags.stream !== undefined) throw new UsageError('--stream is for set and clear');
  if (verb !== 'set' && (flags.value !== undefined || flags.replace)) throw new UsageError('--value and --replace are for sync state set');
  if (verb !== 'rewind' && flags.to !== undefined) throw new UsageError('--to is for sync state rewind');
  if (verb !== 'history' && flags.limit !== undefined) throw new UsageError('--limit is for sync state history');
  if (verb === 'history') return listStateHistory(spec, where, stateId, historyLimit(flags.limit), flags.format ?? 'text', io, log);
  if (verb === 'rewind') return rewind(spec, where, stateId, flags, io, log);

  // Looking, or clearing what is not there, must not create a database or a folder.
  if (verb !== 'set' && !targetExists(spec)) {
    log.info(verb === 'show' ? `no state: ${where} does not exist` : `nothing to clear: ${where} does not exist`);
    return;
  }
  // Changing state under a running sync would be overwritten or, worse, interleaved. The lock
  // comes before the target is opened, so a change refused as busy has touched nothing.
  const lock = verb === 'show' ? undefined : await stateLock(spec, stateId, verb, where);
  try {
    const target = await openTarget(spec, { stateId, warn: (m) => log.warn(m), stdout: io.stdout });
    try {
      if (verb === 'show') await show(target, spec, stateId, io, log);
      else if (change !== undefined) await set(target, change, connector, stateId, log);
      else await clear(target, flags.stream, stateId, log);
    } finally {
      await target.close();
    }
  } catch (err) {
    if (err instanceof StateError) throw new UsageError(err.message);
    throw err;
  } finally {
    await lock?.release();
  }
}

/** `sync state rewind --to`: the snapshot is chosen first, then put back under the run lock. */
async function rewind(spec: TargetSpec, where: string, stateId: string, flags: StateFlags, io: CliIo, log: Logger): Promise<void> {
  if (flags.to === undefined) throw new UsageError('sync state rewind needs --to: an id from sync state history, or a time (2026-03-01T00:00:00Z, 2h)');
  if (flags.stream !== undefined) throw new UsageError('sync state rewind puts back a whole state; --stream is for set and clear');
  if (!targetExists(spec)) throw new UsageError(`nothing to rewind: ${where} does not exist`);
  const snapshot = await chooseSnapshot(spec, where, stateId, flags.to);
  const lock = await stateLock(spec, stateId, 'rewind', where);
  try {
    await rewindTo(spec, stateId, snapshot, io, log);
  } finally {
    await lock?.release();
  }
}

function historyLimit(text: string | undefined): number {
  return text === undefined ? DEFAULT_HISTORY_LIMIT : positiveInteger(text, '--limit');
}

function plannedChange(value: string | undefined, flags: StateFlags): Change {
  const given = value !== undefined || flags.file !== undefined;
  if (flags.stream !== undefined) {
    if (given) throw new UsageError('sync state set takes either --stream with --value, or a whole state (an argument or --file), not both');
    if (flags.value === undefined) throw new UsageError(`sync state set --stream ${flags.stream} needs the new bookmark: --value 2025-06-01T00:00:00Z`);
    if (flags.replace) throw new UsageError('--replace is for a whole state (an argument or --file), not one stream\'s bookmark');
    return { kind: 'bookmark', stream: flags.stream, value: flags.value };
  }
  if (flags.value !== undefined) throw new UsageError('--value needs --stream: sync state set sample --stream orders --value 2025-06-01T00:00:00Z');
  if (value !== undefined && flags.file !== undefined) throw new UsageError('sync state set takes the state as an argument or with --file, not both');
  const state = readGivenState(value, flags.file);
  return { kind: flags.replace ? 'replace' : 'merge', state };
}

function readGivenState(value: string | undefined, file: string | undefined): JsonValue {
  let parsed: JsonValue | undefined;
  if (file !== undefined) {
    parsed = readJsonFile(file, '--file');
  } else if (value !== undefined) {
    try {
      parsed = parseJson(value).value;
    } catch (err) {
      throw new UsageError(`the state given is not valid JSON: ${(err as Error).message}`);
    }
  } else {
    throw new UsageError(
      'sync state set needs what to set: one bookmark (--stream orders --value 2025-06-01T00:00:00Z), or a state as an argument or with --file FILE',
    );
  }
  try {
    toSyncState(parsed);
  } catch (err) {
    if (err instanceof StateError) throw new UsageError(err.message);
    throw err;
  }
  return parsed ?? null;
}

/** Whether the target is there at all; a server target (PostgreSQL) counts as there. */
function targetExists(spec: TargetSpec): boolean {
  switch (spec.kind) {
    case 'sqlite':
      return existsSync(spec.path);
    case 'jsonl':
    case 'csv':
      return existsSync(spec.dir);
    default:
      return true;
  }
}

async function stateLock(spec: TargetSpec, stateId: string, verb: Action, where: string): Promise<RunLock | undefined> {
  try {
    return await acquireRunLock(spec, stateId, undefined, `sync state ${verb} ${stateId} → ${where}`);
  } catch (err) {
    // The lock's message names its holder, usually the run busy with this very state.
    if (err instanceof BusyError) throw new BusyError(`the state of ${stateId} in ${where} is in use, so it was not changed: ${err.message}`);
    throw err;
  }
}

async function show(target: Target, spec: TargetSpec, stateId: string, io: CliIo, log: Logger): Promise<void> {
  const stored = target.readState();
  if (stored !== undefined) {
    io.stdout.write(JSON.stringify(JSON.parse(stringifyJson(stored)), null, 2) + '\n');
    return;
  }
  const where = describeTarget(spec);
  log.info(`no state stored for ${stateId} in ${where}`);
  // State received by `sync target` is kept under its own id: say so rather than leave the user to guess.
  if (stateId !== TARGET_STATE_ID && (await storesState(spec, TARGET_STATE_ID, io))) {
    log.info(`(state that \`sync target\` received is stored there: sync state show --state-id ${TARGET_STATE_ID} --target ${where})`);
  }
}

async function storesState(spec: TargetSpec, stateId: string, io: CliIo): Promise<boolean> {
  const target = await openTarget(spec, { stateId, warn: () => {}, stdout: io.stdout });
  try {
    return target.readState() !== undefined;
  } finally {
    await target.close();
  }
}

async function set(target: Target, change: Change, connector: AnyConnector | undefined, stateId: string, log: Logger): Promise<void> {
  const where = target.description;
  if (change.kind === 'replace') {
    await target.writeState(change.state);
    log.info(`state of ${stateId} in ${where} replaced`);
    return;
  }
  const stored = target.readState();
  const current = toSyncState(stored);
  if (change.kind === 'bookmark') {
    const next = withBookmark(current, change.stream, bookmarkKey(connector, change.stream, current), change.value);
    await target.writeState(next);
    const value = next.bookmarks[change.stream]?.['replication_key_value'] ?? null;
    const shown = typeof value === 'string' ? value : stringifyJson(value);
    log.info(`bookmark of ${change.stream} set to ${shown} for ${stateId} in ${where}${othersKept(current, [change.stream])}`);
    return;
  }
  await target.writeState(mergeState(stored, change.state));
  const bookmarks = isJsonObject(change.state) ? change.state['bookmarks'] : undefined;
  const streams = isJsonObject(bookmarks) ? Object.keys(bookmarks) : [];
  const kept = othersKept(current, streams);
  // The JSON form used to replace everything: say how to get that when bookmarks were kept.
  log.info(`${streams.length ? `bookmarks of ${streams.join(', ')}` : 'state'} set for ${stateId} in ${where}${kept}${kept ? ' (--replace replaces the whole state)' : ''}`);
}

/** `; customers kept` (or nothing): the bookmarks a change left alone, since keeping them is the point. */
function othersKept(current: SyncState, changed: readonly string[]): string {
  const kept = Object.keys(current.bookmarks).filter((s) => !changed.includes(s));
  return kept.length ? `; ${kept.join(', ')} kept` : '';
}

/** The key a stream's bookmark is kept for: the connector's declaration, else the stored bookmark's. */
function bookmarkKey(connector: AnyConnector | undefined, stream: string, current: SyncState): BookmarkKey {
  const definition = connector?.streams.find((s) => s.name === stream);
  if (definition !== undefined) {
    const key = definition.replicationKey;
    if (key === undefined) throw new UsageError(`stream ${stream} of ${connector?.name ?? ''} is read in full on every run: it keeps no bookmark`);
    const properties = definition.schema['properties'];
    const schema = isJsonObject(properties) ? properties[key] : undefined;
    return isJsonObject(schema) ? { name: key, schema } : { name: key };
  }
  const stored = storedKey(current, stream);
  if (stored !== undefined) return { name: stored };
  if (connector !== undefined && connector.resolveStreams === undefined) {
    throw new UsageError(`unknown stream ${JSON.stringify(stream)} for ${connector.name}; streams: ${connector.streams.map((s) => s.name).join(', ')}`);
  }
  throw new UsageError(
    `the replication key of stream ${stream} is not known here (no bookmark of it is stored): set the bookmark as JSON, ` +
      `'{"bookmarks": {"${stream}": {"replication_key": "updated_at", "replication_key_value": "2025-06-01T00:00:00Z"}}}'`,
  );
}

async function clear(target: Target, stream: string | undefined, stateId: string, log: Logger): Promise<void> {
  if (stream !== undefined) {
    const current = toSyncState(target.readState());
    await target.writeState(clearBookmark(current, stream));
    log.info(`bookmark of stream ${stream} cleared for ${stateId}; the next run reads it in full`);
    return;
  }
  await target.writeState(undefined);
  log.info(`state of ${stateId} cleared; the next run reads everything`);
}
