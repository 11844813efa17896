import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isPostgresUrl, parsePostgresUrl, type PostgresLocation } from '../targets/postgres-url.js';
import { Journal, type AppendOutcome, type DeliveryFilter, type DeliveryStatus, type NewDelivery, type StoredDelivery } from './journal.js';

/**
 * The journal as the listener, the drain and `sync inbox` use it, whichever store holds it:
 * an SQLite file (one machine, the default) or a PostgreSQL schema (any number of listener
 * replicas and drain workers sharing it). Both keep the same rows and the same rules: one row
 * per (connector, delivery id), an append resolves only once committed, done deliveries are
 * pruned after the retention, pending ones never.
 */

export type JournalLocation = { kind: 'sqlite'; path: string } | ({ kind: 'postgres' } & PostgresLocation);

/** `--journal`: a file path (relative to `cwd`), or `postgres://USER@HOST:PORT/DB?schema=NAME`. */
export function parseJournalSpec(text: string, cwd: string): JournalLocation {
  if (isPostgresUrl(text)) {
    try {
      return { kind: 'postgres', ...parsePostgresUrl(text) };
    } catch (err) {
      // The parser speaks of a target; the message never repeats the text, which may hold a password.
      throw new UsageError(`--journal: ${(err as Error).message.replace('the PostgreSQL target', 'the PostgreSQL journal')}`);
    }
  }
  if (text.trim() === '') throw new UsageError('--journal must name a file or a postgres:// URL');
  return { kind: 'sqlite', path: resolve(cwd, text) };
}

/** For messages: the file, or the URL without its password. */
export function describeJournal(location: JournalLocation): string {
  return location.kind === 'sqlite' ? location.path : location.description;
}

export interface PruneOptions {
  /** ISO 8601, compared as UTC text. */
  before: string;
  status: 'done' | 'dead';
  limit: number;
  connector?: string | undefined;
}

/** Per connector and status (pending, dead): how many, and the oldest receive time. */
export interface BacklogRow {
  connector: string;
  status: 'pending' | 'dead';
  n: number;
  oldest: string | null;
}

export interface DeadLetter {
  seq: number;
  error: string;
}

/** What a drain needs from the journal. */
export interface DrainJournal {
  /**
   * The next pending deliveries of these connectors, oldest first, held for this drain until
   * `settle` or `release`: no other drain gets them meanwhile.
   */
  claim(connectors: readonly string[], limit: number): Promise<StoredDelivery[]>;
  /** Marks deliveries done (their records are committed) or dead (with the mapping error), and lets go of the claim. */
  settle(done: readonly number[], dead: readonly DeadLetter[]): Promise<void>;
  /** Lets go of the claim without marking anything (the target failed): the deliveries are pending again. */
  release(): Promise<void>;
  close(): Promise<void>;
}

export interface JournalStore {
  readonly location: JournalLocation;
  /** Appends that may run at once (each its own transaction). */
  readonly commitsInFlight: number;
  /** Appends in one transaction, in order; resolves once committed. A known delivery id is a duplicate. */
  append(entries: readonly NewDelivery[]): AppendOutcome[] | Promise<AppendOutcome[]>;
  select(filter: DeliveryFilter): Promise<StoredDelivery[]>;
  /** Deletes up to `limit` old deliveries of this status in one short transaction; returns how many. Never pending ones. */
  prune(options: PruneOptions): Promise<number>;
  pendingCount(connectors: readonly string[]): Promise<number>;
  backlog(): Promise<BacklogRow[]>;
  counts(): Promise<Record<DeliveryStatus, number>>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A writer waits this long for a lock (SQLite). */
  busyTimeoutMs?: number;
  /** Only read: nothing is created, and a missing journal is an error. */
  readonly?: boolean;
}

/** Opens (and, unless read-only, creates) the journal; PostgreSQL's driver is loaded only here. */
export async function openJournalStore(location: JournalLocation, options: OpenOptions): Promise<JournalStore> {
  if (location.kind === 'sqlite') return new SqliteJournalStore(location, options);
  const { openPostgresJournal } = await import('./pg-journal.js');
  return openPostgresJournal(location, options);
}

/** A drain's own hold on the journal (its own connection): for a drain, or a replay by `sync inbox`. */
export async function openDrainJournal(location: JournalLocation): Promise<DrainJournal> {
  if (location.kind === 'sqlite') return new SqliteDrainJournal(new Journal(location.path));
  const { PostgresDrainJournal } = await import('./pg-drain-journal.js');
  return new PostgresDrainJournal(location);
}

/** The SQLite file (journal.ts) behind the common interface. */
export class SqliteJournalStore implements JournalStore {
  readonly journal: Journal;
  /** One connection, one writer: a commit runs to its end before the next starts. */
  readonly commitsInFlight = 1;

  constructor(
    readonly location: { kind: 'sqlite'; path: string },
    options: OpenOptions,
  ) {
    this.journal = new Journal(location.path, { readonly: options.readonly === true, ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}) });
  }

  append(entries: readonly NewDelivery[]): AppendOutcome[] {
    return this.journal.append(entries);
  }

  async select(filter: DeliveryFilter): Promise<StoredDelivery[]> {
    return this.journal.select(filter);
  }

  async prune(options: PruneOptions): Promise<number> {
    return this.journal.prune(options);
  }

  async pendingCount(connectors: readonly string[]): Promise<number> {
    return this.journal.pendingCount(connectors);
  }

  async backlog(): Promise<BacklogRow[]> {
    return this.journal.backlog();
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    return this.journal.counts();
  }

  async close(): Promise<void> {
    this.journal.close();
  }
}

/**
 * One drain over an SQLite journal. A listener is the only drain of its journal (a lock beside
 * the file), so a claim is a cursor: what comes after the last settled delivery. Deliveries at
 * or before it are settled, or being replayed by `sync inbox`, which settles its own.
 */
export class SqliteDrainJournal implements DrainJournal {
  private cursor = 0;
  private claimedUpTo: number | undefined;

  constructor(private readonly journal: Journal) {}

  async claim(connectors: readonly string[], limit: number): Promise<StoredDelivery[]> {
    const entries = this.journal.pending(connectors, this.cursor, limit);
    this.claimedUpTo = entries.at(-1)?.seq;
    return entries;
  }

  async settle(done: readonly number[], dead: readonly DeadLetter[]): Promise<void> {
    this.journal.settle(done, dead);
    if (this.claimedUpTo !== undefined) this.cursor = this.claimedUpTo;
    this.claimedUpTo = undefined;
  }

  async release(): Promise<void> {
    this.claimedUpTo = undefined;
  }

  async close(): Promise<void> {
    this.journal.close();
  }
}
