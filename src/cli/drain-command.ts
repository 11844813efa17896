import { UsageError } from '../errors.js';
import { startInlineDrain } from '../listen/drain-host.js';
import { DRAIN_STATE_ID, DrainHistory } from '../listen/drain-history.js';
import { describeJournal, openDrainJournal, openJournalStore } from '../listen/journal-store.js';
import { describeTarget, openTarget } from '../targets/spec.js';
import { cliLogger, type CliIo, type OutputOptions } from './io.js';
import { journalSpecOf, plural, untilAborted } from './listen-command.js';
import { formatCount } from './progress.js';
import { targetSpecOf } from './target-spec.js';
import { webhookMappers } from './webhook-mappers.js';

export interface DrainFlags extends OutputOptions {
  journal: string;
  target: string;
  config?: string;
  /** Drain what is pending now, then exit (a scheduled job) instead of running until stopped. */
  once?: boolean;
}

const DRAIN_BATCH = 1_000;
/** On SIGTERM: the batch under way is finished and what is pending drained for at most this long. */
const STOP_DEADLINE_MS = 30_000;

/**
 * `sync drain`: a drain worker and nothing else, over a PostgreSQL journal that `sync listen`
 * replicas fill. Any number of them may run, on any hosts: each claims its own deliveries
 * (journal-store.ts, pg-drain-journal.ts), so every delivery is written by one of them.
 */
export async function drainCommand(names: string[], flags: DrainFlags, io: CliIo): Promise<void> {
  const log = cliLogger(io, flags);
  const location = journalSpecOf(flags.journal, io);
  if (location.kind !== 'postgres') {
    throw new UsageError('sync drain reads a PostgreSQL journal (--journal postgres://USER@HOST:PORT/DB?schema=NAME); an SQLite journal is drained by its `sync listen`');
  }
  const spec = targetSpecOf(flags.target, io);
  const unique = [...new Set(names)];
  const mappers = await webhookMappers(unique, flags.config, io, log);
  const without = unique.filter((name) => !mappers.has(name));
  if (without.length > 0) throw new UsageError(`${without.join(', ')}: no webhook support (or no webhooks in the config), so there is nothing to drain`);
  // Unreachable or missing, said now and clearly, not as an endless retry.
  await (await openJournalStore(location, { readonly: true })).close();

  const started = Date.now();
  const failed = new AbortController();
  let failure: Error | undefined;
  const target = describeTarget(spec);
  const drain = startInlineDrain(
    {
      journal: await openDrainJournal(location),
      mappers,
      openTarget: () => openTarget(spec, { stateId: DRAIN_STATE_ID, warn: (m) => log.warn(m), stdout: io.stdout }),
      log,
      batchSize: DRAIN_BATCH,
      history: new DrainHistory({ spec, log, secrets: io.secrets }),
    },
    target,
    (err) => {
      failure = err;
      failed.abort();
    },
  );
  log.info(`draining ${unique.join(', ')} from ${describeJournal(location)} → ${target}${flags.once ? ' (what is pending now, then exit)' : ''}`);
  if (!flags.once) await untilAborted(io.signal, failed.signal);
  const counts = await drain.stop(flags.once && !io.signal.aborted ? Number.POSITIVE_INFINITY : STOP_DEADLINE_MS);
  const records = [...counts.records].map(([stream, n]) => `${stream} ${formatCount(n)}`).join(', ');
  log.info(
    `drain → ${target}: ${plural(counts.done, 'delivery', 'deliveries')} written${records ? ` (${records})` : ''}, ${counts.dead} dead; up ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (failure) throw failure;
}
