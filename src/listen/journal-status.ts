import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { isPostgresUrl, parsePostgresUrl } from '../targets/postgres-url.js';

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

/** How `--journal` is shown: a PostgreSQL URL without its password. */
export function shownJournal(journal: string): string {
  return isPostgresUrl(journal) ? parsePostgresUrl(journal).description : journal;
}

/** Undefined when the journal does not exist. `journal`: a file, or a `postgres://…?schema=` journal. */
export async function readJournalSummary(journal: string): Promise<JournalSummary | undefined> {
  if (isPostgresUrl(journal)) return readPostgresSummary(journal);
  return readSqliteSummary(journal);
}

async function readPostgresSummary(url: string): Promise<JournalSummary | undefined> {
  const location = { kind: 'postgres' as const, ...parsePostgresUrl(url) };
  const { openPostgresJournal } = await import('./pg-journal.js');
  let journal;
  try {
    journal = await openPostgresJournal(location, { readonly: true });
  } catch (err) {
    // No journal in that schema (yet): as for a file that does not exist.
    if (err instanceof UsageError) return undefined;
    throw err;
  }
  try {
    const [events, backlog] = await Promise.all([journal.events(), journal.backlog()]);
    const names = [...new Set(events.map((e) => e.connector))].sort();
    return {
      path: location.description,
      connectors: names.map((connector) => {
        const pending = backlog.find((b) => b.connector === connector && b.status === 'pending');
        return {
          connector,
          pending: pending?.n ?? 0,
          dead: backlog.find((b) => b.connector === connector && b.status === 'dead')?.n ?? 0,
          oldestPending: pending?.oldest ?? null,
          events: events.filter((e) => e.connector === connector).map(({ event, lastReceivedAt, count }) => ({ event, lastReceivedAt, count })),
        };
      }),
    };
  } finally {
    await journal.close();
  }
}

function readSqliteSummary(path: string): JournalSummary | undefined {
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
