import { readFileSync } from 'node:fs';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../protocol/json.js';
import { fileInside } from './file-names.js';
import { RUNS_FILE, STATE_FILE, STATE_HISTORY_FILE, TargetFolder } from './file-state.js';
import { HISTORY_MAX_ROWS, pruneBefore, type HistoryStore, type RunRecord, type StateSnapshot, type StoredRun, type StreamChanges } from './history.js';
import { appendWithId, pruneEntries, readEntries } from './history-lines.js';

/**
 * Run and state history of a `jsonl:DIR` or `csv:DIR` target: JSON Lines files beside its
 * state file (`.sync-runs.jsonl`, `.sync-state-history.jsonl`), written under the folder lock.
 */
export class FileHistory implements HistoryStore {
  private readonly runsPath: string;
  private readonly statesPath: string;
  private readonly statePath: string;

  constructor(
    private readonly dir: string,
    readonly description: string,
  ) {
    this.runsPath = fileInside(dir, RUNS_FILE);
    this.statesPath = fileInside(dir, STATE_HISTORY_FILE);
    this.statePath = fileInside(dir, STATE_FILE);
  }

  async recordRun(run: RunRecord): Promise<void> {
    const folder = new TargetFolder(this.dir, this.description, { stateId: run.stateId, warn: () => {} });
    try {
      folder.locked(() => {
        const before = pruneBefore(Date.now());
        pruneEntries(this.runsPath, (entries) => bounded(entries, run.stateId, 'started_at', before));
        pruneEntries(this.statesPath, (entries) => bounded(entries, run.stateId, 'committed_at', before));
        appendWithId(this.runsPath, {
          connector: run.connector,
          state_id: run.stateId,
          started_at: run.startedAt,
          ended_at: run.endedAt,
          exit_code: run.exitCode,
          records: run.records,
          error: run.error,
          bookmarks_before: run.bookmarksBefore,
          bookmarks_after: run.bookmarksAfter,
          ...(run.changes === undefined ? {} : { changes: run.changes as unknown as JsonObject }),
        });
      });
    } finally {
      folder.close();
    }
  }

  async runs(options: { stateId?: string; limit: number; succeeded?: boolean }): Promise<StoredRun[]> {
    const out: StoredRun[] = [];
    const entries = readEntries(this.runsPath);
    for (let i = entries.length - 1; i >= 0 && out.length < options.limit; i--) {
      const run = toRun(entries[i] as JsonObject);
      if (run === undefined) continue;
      if (options.stateId !== undefined && run.stateId !== options.stateId) continue;
      if (options.succeeded === true && run.exitCode !== 0) continue;
      out.push(run);
    }
    return out;
  }

  async stateIds(): Promise<Array<{ stateId: string; connector: string | undefined }>> {
    const ids = new Map<string, string | undefined>();
    for (const id of Object.keys(this.allStates())) ids.set(id, undefined);
    for (const entry of readEntries(this.runsPath)) {
      const run = toRun(entry);
      if (run !== undefined) ids.set(run.stateId, run.connector);
    }
    return [...ids].sort(([a], [b]) => a.localeCompare(b)).map(([stateId, connector]) => ({ stateId, connector }));
  }

  async states(stateId: string, limit: number): Promise<StateSnapshot[]> {
    const out: StateSnapshot[] = [];
    const entries = readEntries(this.statesPath);
    for (let i = entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = entries[i] as JsonObject;
      if (e['state_id'] !== stateId || typeof e['committed_at'] !== 'string' || e['value'] === undefined) continue;
      out.push({ id: e['id'] as number, stateId, committedAt: e['committed_at'], value: e['value'] });
    }
    return out;
  }

  async currentState(stateId: string): Promise<JsonValue | undefined> {
    const all = this.allStates();
    return Object.hasOwn(all, stateId) ? all[stateId] : undefined;
  }

  async close(): Promise<void> {}

  private allStates(): JsonObject {
    try {
      const value = parseJson(readFileSync(this.statePath, 'utf8')).value;
      return isJsonObject(value) ? value : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }
}

/** The entries kept: other state ids' as they are; this one's the newest HISTORY_MAX_ROWS, none older than `before`. */
function bounded(entries: JsonObject[], stateId: string, timeField: string, before: string): JsonObject[] {
  let mine = 0;
  const keep = new Array<boolean>(entries.length);
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as JsonObject;
    if (e['state_id'] !== stateId) keep[i] = true;
    else {
      const time = e[timeField];
      // The run being recorded counts too: keep one fewer.
      keep[i] = typeof time === 'string' && time >= before && ++mine < HISTORY_MAX_ROWS;
    }
  }
  return entries.filter((_, i) => keep[i]);
}

function toRun(e: JsonObject): StoredRun | undefined {
  const text = (key: string): string | undefined => (typeof e[key] === 'string' ? e[key] : undefined);
  const connector = text('connector');
  const stateId = text('state_id');
  const startedAt = text('started_at');
  const endedAt = text('ended_at');
  if (connector === undefined || stateId === undefined || startedAt === undefined || endedAt === undefined || typeof e['exit_code'] !== 'number') return undefined;
  const object = (key: string): JsonObject => (isJsonObject(e[key]) ? e[key] : {});
  return {
    id: e['id'] as number,
    connector,
    stateId,
    startedAt,
    endedAt,
    exitCode: e['exit_code'],
    records: object('records') as unknown as Record<string, number>,
    error: text('error') ?? null,
    bookmarksBefore: object('bookmarks_before'),
    bookmarksAfter: object('bookmarks_after'),
    ...(isJsonObject(e['changes']) ? { changes: e['changes'] as unknown as Record<string, StreamChanges> } : {}),
  };
}
