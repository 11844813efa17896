import { readFileSync } from 'node:fs';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../protocol/json.js';
import { fileInside } from './file-names.js';
import { RUNS_FILE, STATE_FILE, STATE_HISTORY_FILE, TargetFolder } from './file-state.js';
import { HISTORY_MAX_ROWS, pruneBefore, type HistoryKind, type HistoryStore, type RunRecord, type StateSnapshot, type StoredRun, type StreamChanges } from './history.js';
import { appendWithId, boundedEntries, pruneEntries, readEntries } from './history-lines.js';

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
        const kind = run.kind ?? 'run';
        // Each kind on its own, as in SQLite; the row about to be added counts too: one fewer is kept.
        const sameRuns = (e: JsonObject): boolean => e['state_id'] === run.stateId && kindOf(e) === kind;
        pruneEntries(this.runsPath, (entries) => boundedEntries(entries, sameRuns, 'started_at', before, HISTORY_MAX_ROWS - 1));
        pruneEntries(this.statesPath, (entries) => boundedEntries(entries, (e) => e['state_id'] === run.stateId, 'committed_at', before, HISTORY_MAX_ROWS));
        appendWithId(this.runsPath, {
          ...(kind === 'run' ? {} : { kind }),
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
          ...(run.deliveries === undefined ? {} : { deliveries: run.deliveries }),
          ...(run.dead === undefined ? {} : { dead: run.dead }),
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
      if (run === undefined || run.kind !== 'run') continue;
      if (options.stateId !== undefined && run.stateId !== options.stateId) continue;
      if (options.succeeded === true && run.exitCode !== 0) continue;
      out.push(run);
    }
    return out;
  }

  async lastDrains(): Promise<StoredRun[]> {
    const newest = new Map<string, StoredRun>();
    for (const entry of readEntries(this.runsPath)) {
      const run = toRun(entry);
      if (run?.kind === 'drain') newest.set(run.connector, run);
    }
    return [...newest.values()].sort((a, b) => a.connector.localeCompare(b.connector));
  }

  async stateIds(): Promise<Array<{ stateId: string; connector: string | undefined }>> {
    const ids = new Map<string, string | undefined>();
    for (const id of Object.keys(this.allStates())) ids.set(id, undefined);
    for (const entry of readEntries(this.runsPath)) {
      const run = toRun(entry);
      if (run?.kind === 'run') ids.set(run.stateId, run.connector);
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

/** Lines written before drains were recorded have no `kind`: runs. */
function kindOf(e: JsonObject): HistoryKind {
  return e['kind'] === 'drain' ? 'drain' : 'run';
}

function toRun(e: JsonObject): StoredRun | undefined {
  const text = (key: string): string | undefined => (typeof e[key] === 'string' ? e[key] : undefined);
  const connector = text('connector');
  const stateId = text('state_id');
  const startedAt = text('started_at');
  const endedAt = text('ended_at');
  if (connector === undefined || stateId === undefined || startedAt === undefined || endedAt === undefined || typeof e['exit_code'] !== 'number') return undefined;
  const object = (key: string): JsonObject => (isJsonObject(e[key]) ? e[key] : {});
  const count = (key: string): number | undefined => (typeof e[key] === 'number' ? e[key] : undefined);
  const deliveries = count('deliveries');
  const dead = count('dead');
  return {
    id: e['id'] as number,
    kind: kindOf(e),
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
    ...(deliveries === undefined ? {} : { deliveries }),
    ...(dead === undefined ? {} : { dead }),
  };
}
