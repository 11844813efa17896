import { isJsonObject } from '../protocol/json.js';
import { openHistory } from '../targets/history.js';
import { describeTarget, type TargetSpec } from '../targets/spec.js';

/**
 * Two accounts of one connector synced into one target share its tables: their rows mix, and a
 * key both have is overwritten by whichever wrote last. A row does not say which account wrote
 * it, but a database target's history does, cheaply: another state id whose newest run was of
 * the same connector, and whose stored state holds bookmarks of streams this run writes. Only
 * SQLite and PostgreSQL are asked (a few indexed reads); file targets would have to read their
 * run history whole. Several state ids of one connector for different streams (`--streams
 * orders --state-id sample-orders`) share no table, and are no mistake.
 */
export async function sharedTablesWarning(spec: TargetSpec, connector: string, stateId: string, streams: readonly string[]): Promise<string | undefined> {
  if (spec.kind !== 'sqlite' && spec.kind !== 'postgres') return undefined;
  const history = await openHistory(spec, 'read');
  if (history === undefined) return undefined;
  try {
    for (const other of await history.stateIds()) {
      if (other.stateId === stateId || other.connector !== connector) continue;
      const state = await history.currentState(other.stateId);
      const bookmarks = isJsonObject(state) ? state['bookmarks'] : undefined;
      const shared = isJsonObject(bookmarks) ? streams.filter((s) => s in bookmarks) : [];
      if (shared.length === 0) continue;
      const where = describeTarget(spec);
      return (
        `${where}: ${shared.join(', ')} already ${shared.length === 1 ? 'holds' : 'hold'} rows of ${connector} synced under state id ${JSON.stringify(other.stateId)}; ` +
        `this run (state id ${JSON.stringify(stateId)}) writes into the same ${shared.length === 1 ? 'table' : 'tables'}, so two accounts' rows mix, and a key both have is overwritten. ` +
        `Give each account its own target; if state id ${JSON.stringify(other.stateId)} is no longer used, \`sync state clear --state-id ${other.stateId} --target ${where}\` ends this warning`
      );
    }
    return undefined;
  } finally {
    await history.close();
  }
}
