import { UsageError } from '../errors.js';
import { stringifyJson, type JsonValue } from '../protocol/json.js';
import { bookmarkValues, openHistory, type StateSnapshot } from '../targets/history.js';
import { openTarget, type TargetSpec } from '../targets/spec.js';
import type { Logger } from '../log.js';
import type { CliIo } from './io.js';
import { pointInTime } from './when.js';

/**
 * `sync state history` and `sync state rewind`: every state a target committed for a state id,
 * and putting one of them back so the next run reads again from there.
 */

/** How far back `history` lists by default; `--limit` for more. */
export const DEFAULT_HISTORY_LIMIT = 20;
/** Every snapshot a rewind may choose from: the whole bounded history. */
const ALL = 10_000;

export async function listStateHistory(
  spec: TargetSpec,
  where: string,
  stateId: string,
  limit: number,
  format: 'text' | 'json',
  io: CliIo,
  log: Logger,
): Promise<void> {
  const snapshots = await readSnapshots(spec, stateId, limit);
  if (snapshots === undefined) {
    log.info(`no history: ${where} does not exist`);
    return;
  }
  if (format === 'json') {
    for (const s of snapshots) io.stdout.write(stringifyJson({ id: s.id, state_id: s.stateId, committed_at: s.committedAt, value: s.value }) + '\n');
    return;
  }
  if (snapshots.length === 0) {
    log.info(`no state of ${stateId} was committed in ${where}`);
    return;
  }
  const rows = snapshots.map((s) => [String(s.id), s.committedAt, describeBookmarks(s.value)]);
  const width = Math.max(2, ...rows.map((r) => (r[0] as string).length));
  io.stdout.write(`${'id'.padStart(width)}  committed at               bookmarks\n`);
  for (const [id, at, bookmarks] of rows) io.stdout.write(`${(id as string).padStart(width)}  ${(at as string).padEnd(25)}  ${bookmarks}\n`);
}

/**
 * The snapshot `--to` names: an id, or the newest committed at or before a time. Chosen before
 * the run lock is taken, so a mistaken `--to` is refused even while a run is busy.
 */
export async function chooseSnapshot(spec: TargetSpec, where: string, stateId: string, to: string): Promise<StateSnapshot> {
  const snapshots = (await readSnapshots(spec, stateId, ALL)) ?? [];
  if (snapshots.length === 0) throw new UsageError(`no state of ${stateId} was committed in ${where}: there is nothing to rewind to`);
  let chosen: StateSnapshot | undefined;
  if (/^\d+$/.test(to.trim())) {
    const id = Number(to.trim());
    chosen = snapshots.find((s) => s.id === id);
    if (chosen === undefined) throw new UsageError(`--to ${to}: no state of ${stateId} has that id (see sync state history)`);
  } else {
    const at = pointInTime(to, '--to');
    chosen = snapshots.find((s) => Date.parse(s.committedAt) <= at);
    if (chosen === undefined) {
      const oldest = snapshots[snapshots.length - 1] as StateSnapshot;
      throw new UsageError(`--to ${to}: the oldest state of ${stateId} kept was committed at ${oldest.committedAt}, after that time`);
    }
  }
  return chosen;
}

/** Puts the snapshot back as the stored state; the caller holds the run lock. */
export async function rewindTo(spec: TargetSpec, stateId: string, snapshot: StateSnapshot, io: CliIo, log: Logger): Promise<void> {
  const target = await openTarget(spec, { stateId, warn: (m) => log.warn(m), stdout: io.stdout });
  try {
    await target.writeState(snapshot.value);
  } finally {
    await target.close();
  }
  log.info(
    `state of ${stateId} in ${target.description} rewound to #${snapshot.id} (committed at ${snapshot.committedAt}): ${describeBookmarks(snapshot.value)}; the next run reads from there`,
  );
}

async function readSnapshots(spec: TargetSpec, stateId: string, limit: number): Promise<StateSnapshot[] | undefined> {
  const history = await openHistory(spec, 'read');
  if (history === undefined) return undefined;
  try {
    return await history.states(stateId, limit);
  } finally {
    await history.close();
  }
}

/** `customers=2026-01-14T15:11:41Z orders=…`, or `(no bookmarks)`. */
export function describeBookmarks(state: JsonValue): string {
  const values = bookmarkValues(state);
  const parts = Object.keys(values).map((stream) => {
    const value = values[stream];
    return `${stream}=${typeof value === 'string' ? value : stringifyJson(value)}`;
  });
  return parts.length ? parts.join(' ') : '(no bookmarks)';
}
