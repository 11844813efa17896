import { loadConnector } from '../connector/registry.js';
import { UsageError } from '../errors.js';
import { parseJson, stringifyJson, type JsonValue } from '../protocol/json.js';
import { clearBookmark, StateError, toSyncState } from '../protocol/state.js';
import { describeTarget, lockPathFor, openTarget, parseTargetSpec } from '../targets/spec.js';
import { readJsonFile } from './files.js';
import type { CliIo } from './io.js';
import { acquireLock } from './lock.js';

export interface StateFlags {
  target: string;
  stateId?: string;
  stream?: string;
  file?: string;
}

/** `sync state show|set|clear <connector>`: the state a target keeps for a connector. */
export async function stateCommand(action: string, name: string, value: string | undefined, flags: StateFlags, io: CliIo): Promise<void> {
  if (!['show', 'set', 'clear'].includes(action)) throw new UsageError(`unknown state action ${JSON.stringify(action)}; use show, set or clear`);
  // An unknown connector is almost always a typo; --state-id opts out of the check.
  const stateId = flags.stateId ?? (await loadConnector(name)).name;
  const spec = parseTargetSpec(flags.target);
  if (spec.kind === 'stdout') throw new UsageError('target "-" keeps no state; state lives in the file given to --state');
  // Checked before the lock: a mistyped state is a usage error even while a run is busy.
  const next = action === 'set' ? readNewState(value, flags) : undefined;
  // Changing state under a running sync would be overwritten or, worse, interleaved. The lock
  // comes before the target is opened, so a change refused as busy has touched nothing.
  const lockPath = action === 'show' ? undefined : lockPathFor(spec, stateId, undefined);
  const lock = lockPath ? acquireLock(lockPath, `sync state ${action} ${stateId} → ${describeTarget(spec)}`) : undefined;
  try {
    const target = await openTarget(spec, { stateId, warn: (m) => io.stderr.write(`warning: ${m}\n`), stdout: io.stdout });
    try {
      if (action === 'show') {
        const stored = target.readState();
        if (stored === undefined) io.stderr.write(`no state stored for ${stateId} in ${describeTarget(spec)}\n`);
        else io.stdout.write(JSON.stringify(JSON.parse(stringifyJson(stored)), null, 2) + '\n');
      } else if (next !== undefined) {
        await target.writeState(next);
        io.stderr.write(`state of ${stateId} in ${describeTarget(spec)} replaced\n`);
      } else if (flags.stream) {
        const current = toSyncState(target.readState());
        await target.writeState(clearBookmark(current, flags.stream));
        io.stderr.write(`bookmark of stream ${flags.stream} cleared for ${stateId}; the next run reads it in full\n`);
      } else {
        await target.writeState(undefined);
        io.stderr.write(`state of ${stateId} cleared; the next run reads everything\n`);
      }
    } finally {
      await target.close();
    }
  } catch (err) {
    if (err instanceof StateError) throw new UsageError(err.message);
    throw err;
  } finally {
    lock?.release();
  }
}

function readNewState(value: string | undefined, flags: StateFlags): JsonValue {
  let parsed: JsonValue | undefined;
  if (flags.file) {
    parsed = readJsonFile(flags.file, '--file');
  } else if (value !== undefined) {
    try {
      parsed = parseJson(value).value;
    } catch (err) {
      throw new UsageError(`the state given is not valid JSON: ${(err as Error).message}`);
    }
  } else {
    throw new UsageError(`sync state set needs the state: as an argument ('{"bookmarks": {...}}') or with --file FILE`);
  }
  try {
    toSyncState(parsed);
  } catch (err) {
    if (err instanceof StateError) throw new UsageError(err.message);
    throw err;
  }
  return parsed ?? null;
}
