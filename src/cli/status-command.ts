import { readJournalSummary, shownJournal } from '../listen/journal-status.js';
import { openHistory } from '../targets/history.js';
import { describeTarget } from '../targets/spec.js';
import { SyncError, UsageError } from '../errors.js';
import { stringifyJson } from '../protocol/json.js';
import type { CliIo, OutputOptions } from './io.js';
import { findProblems, parseCheckLimits } from './status-check.js';
import { formatStatus } from './status-format.js';
import { gatherStatus } from './status-report.js';
import { targetSpecOf } from './target-spec.js';

export interface StatusFlags extends OutputOptions {
  target: string;
  journal?: string;
  format: 'text' | 'json';
  check: boolean;
  maxAge?: string;
  maxDead?: string;
}

/**
 * `sync status`: per connector the last run and the last successful one, each stream's
 * bookmark and its age, and with a journal the listener's deliveries. Only reads: it never
 * creates a target or a journal.
 */
export async function statusCommand(flags: StatusFlags, io: CliIo): Promise<void> {
  const spec = targetSpecOf(flags.target, io);
  if (spec.kind === 'stdout') throw new UsageError('target "-" keeps no history: give the target runs write into (sqlite:PATH, jsonl:DIR, csv:DIR, postgres://…)');
  if (!flags.check && (flags.maxAge !== undefined || flags.maxDead !== undefined)) throw new UsageError('--max-age and --max-dead are limits for --check');
  const limits = parseCheckLimits(flags.maxAge, flags.maxDead);
  const history = await openHistory(spec, 'read');
  let report;
  try {
    const journal = flags.journal === undefined ? undefined : { path: shownJournal(flags.journal), summary: await readJournalSummary(flags.journal) };
    report = await gatherStatus(describeTarget(spec), history, journal, Date.now());
  } finally {
    await history?.close();
  }
  const problems = flags.check ? findProblems(report, limits) : [];
  if (flags.format === 'json') {
    // Through stringifyJson: a bookmark may hold a number beyond a double.
    io.stdout.write(JSON.stringify(JSON.parse(stringifyJson(flags.check ? { ...report, problems } : report)), null, 2) + '\n');
  } else if (flags.check) {
    // Nothing at all when fresh: cron mails a check only when it has something to say.
    for (const p of problems) io.stdout.write(`${p}\n`);
  } else {
    // On a terminal, long lines are broken to its width; into a file or a pipe they stay whole.
    io.stdout.write(formatStatus(report, io.stdout.isTTY ? io.stdout.columns : undefined));
  }
  if (problems.length) throw new SyncError(`sync status --check: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'} (listed on stdout)`);
}
