import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * What `sync status` reads from a listener's journal, read-only: the last delivery of each
 * event type, and how many deliveries wait or are dead, per connector. Opened without
 * creating anything, and never taking a write lock the listener would wait for.
 */

export interface JournalSummary {
  path: string;
  connectors: Array<{
    connector: string;
    pending: number;
    dead: number;
    /** Receive time of the oldest delivery still pending (the drain's lag), or null. */
    oldestPending: string | null;
    events: Array<{ event: string | null; lastReceivedAt: string; count: number }>;
  }>;
}

/** Undefined when the journal does not exist. */
export function readJournalSummary(path: string): JournalSummary | undefined {
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    const hasTable = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'deliveries'").get() !== undefined;
    if (!hasTable) return { path, connectors: [] };
    const events = db
      .prepare('SELECT connector, event, max(received_at) AS last, count(*) AS n FROM deliveries GROUP BY connector, event ORDER BY connector, event')
      .all() as Array<{ connector: string; event: string | null; last: string; n: number }>;
    const states = db
      .prepare(
        `SELECT connector, sum(status = 'pending') AS pending, sum(status = 'dead') AS dead,
                min(CASE WHEN status = 'pending' THEN received_at END) AS oldest
         FROM deliveries GROUP BY connector ORDER BY connector`,
      )
      .all() as Array<{ connector: string; pending: number; dead: number; oldest: string | null }>;
    return {
      path,
      connectors: states.map((s) => ({
        connector: s.connector,
        pending: Number(s.pending),
        dead: Number(s.dead),
        oldestPending: s.oldest,
        events: events.filter((e) => e.connector === s.connector).map((e) => ({ event: e.event, lastReceivedAt: e.last, count: Number(e.n) })),
      })),
    };
  } finally {
    db.close();
  }
}
