import type { Logger } from '../log.js';
import { openHistory, type RunRecord } from '../targets/history.js';
import { isBusy } from '../targets/sqlite-commit.js';
import { describeTarget, type TargetSpec } from '../targets/spec.js';

/**
 * Adds a finished run to its target's history. Never in the way of the sync: whatever goes
 * wrong here (a database locked past a short wait, a full disk) is a warning, and the run's
 * own exit code stands.
 */
export async function recordRunHistory(spec: TargetSpec, run: RunRecord, log: Logger): Promise<void> {
  try {
    const history = await openHistory(spec, 'write');
    if (history === undefined) return;
    try {
      await history.recordRun(run);
    } finally {
      await history.close();
    }
  } catch (err) {
    const why = isBusy(err) ? 'the database stayed locked by another writer' : (err as Error).message;
    log.warn(`this run was not added to the run history of ${describeTarget(spec)}: ${why}`);
  }
}
