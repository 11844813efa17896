import { existsSync } from 'node:fs';
import { connectorNames } from '../connector/registry.js';
import { SourceError, UsageError } from '../errors.js';
import { isSecretParam } from '../http/redact.js';
import { Drain } from '../listen/drain.js';
import { DRAIN_STATE_ID } from '../listen/drain-history.js';
import type { DeliveryFilter, DeliveryStatus, StoredDelivery } from '../listen/journal.js';
import { describeJournal, openDrainJournal, openJournalStore, type JournalLocation, type JournalStore } from '../listen/journal-store.js';
import { DEFAULT_RETAIN, RETENTION_BATCH, parseDurationMs, retryHorizonWarning } from '../listen/retention.js';
import { formatInstant, normalizeInstant } from '../protocol/instant.js';
import { describeTarget, openTarget } from '../targets/spec.js';
import { withQueryValuesReplaced } from '../url-text.js';
import { summarize } from './progress.js';
import { cliLogger, type CliIo, type OutputOptions } from './io.js';
import { journalSpecOf, plural } from './listen-command.js';
import { positiveInteger } from './options.js';
import { targetSpecOf } from './target-spec.js';
import { webhookMappers } from './webhook-mappers.js';

export interface InboxFlags extends OutputOptions {
  journal: string;
  id?: string;
  since?: string;
  connector?: string;
  status?: DeliveryStatus;
  limit?: string;
  target: string;
  format: string;
  /** prune: only deliveries received longer ago than this duration (default 7d). */
  olderThan?: string;
  /** replay, retry-dead: settings of connectors whose webhooks come from their config (rest). */
  config?: string;
}

const REPLAY_BATCH = 1_000;

/**
 * `sync inbox`: what `sync listen` stored. `list` and `show` only read; `replay` and
 * `retry-dead` push stored deliveries through the current mapping into a target again
 * (records upsert, the newest version wins, so replaying is always safe).
 */
export async function inboxCommand(action: string, flags: InboxFlags, io: CliIo): Promise<void> {
  const location = journalSpecOf(flags.journal, io);
  if (location.kind === 'sqlite' && !existsSync(location.path)) throw new UsageError(`no journal at ${flags.journal}: \`sync listen\` creates it (or pass --journal)`);
  if (flags.connector !== undefined) await checkConnector(location, flags.connector);
  const filter: DeliveryFilter = {
    connector: flags.connector,
    deliveryId: flags.id,
    since: flags.since === undefined ? undefined : sinceInstant(flags.since),
    status: flags.status,
    limit: flags.limit === undefined ? undefined : positiveInteger(flags.limit, '--limit'),
  };
  switch (action) {
    case 'list':
      return withJournal(location, true, async (journal) => list(await journal.select(filter), flags.format, io));
    case 'show': {
      if (flags.id === undefined) throw new UsageError('inbox show needs --id <delivery-id> (see `sync inbox list`)');
      return withJournal(location, true, async (journal) => {
        const found = await journal.select(filter);
        if (found.length === 0) throw new UsageError(`no delivery with id ${JSON.stringify(flags.id)} in ${flags.journal}`);
        for (const d of found) io.stdout.write(flags.format === 'json' ? JSON.stringify(describe(d, true)) + '\n' : showText(d));
      });
    }
    case 'replay':
    case 'retry-dead': {
      const selected = action === 'retry-dead' ? { ...filter, status: 'dead' as const } : filter;
      const entries = await withJournal(location, false, (journal) => journal.select(selected));
      return replay(location, entries, flags, io);
    }
    case 'prune':
      return withJournal(location, false, (journal) => prune(journal, flags, io));
    default:
      throw new UsageError(`unknown inbox action ${JSON.stringify(action)}; use list, show, replay, retry-dead or prune`);
  }
}

/**
 * A misspelt --connector would select nothing, and `prune` would say it pruned none: refused,
 * unless the journal holds deliveries of that name (from a connector since removed, say).
 */
async function checkConnector(location: JournalLocation, name: string): Promise<void> {
  if (connectorNames().includes(name)) return;
  if (await withJournal(location, true, async (journal) => (await journal.select({ connector: name, limit: 1 })).length > 0)) return;
  throw new UsageError(`unknown connector ${JSON.stringify(name)}, and the journal holds no delivery for it; known connectors: ${connectorNames().join(', ')}`);
}

async function withJournal<T>(location: JournalLocation, readonly: boolean, use: (journal: JournalStore) => Promise<T>): Promise<T> {
  const journal = await openJournalStore(location, { readonly });
  try {
    return await use(journal);
  } finally {
    await journal.close();
  }
}


/**
 * `sync inbox prune [--older-than 7d] [--status done|dead] [--connector NAME]`: deletes
 * processed deliveries received before then, in small transactions (a running listener waits
 * at most one of them). Pending deliveries are never pruned. A pruned delivery id is forgotten:
 * sent again, it is stored and processed again.
 */
async function prune(journal: JournalStore, flags: InboxFlags, io: CliIo): Promise<void> {
  const log = cliLogger(io, flags);
  const status = flags.status ?? 'done';
  if (status === 'pending') throw new UsageError('inbox prune deletes done deliveries or dead letters (--status done|dead), never pending ones');
  if (flags.id !== undefined || flags.since !== undefined || flags.limit !== undefined) {
    throw new UsageError('inbox prune selects by --older-than, --status and --connector only');
  }
  const text = flags.olderThan ?? DEFAULT_RETAIN;
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new UsageError(`--older-than must be a duration such as 7d, 72h or 90m, got ${JSON.stringify(text)}`);
  const horizon = status === 'done' ? retryHorizonWarning('--older-than', text, ms) : undefined;
  if (horizon !== undefined) log.warn(horizon);
  const before = formatInstant((Date.now() - ms) * 1000);
  let total = 0;
  for (;;) {
    if (io.signal.aborted) break;
    const n = await journal.prune({ before, status, limit: RETENTION_BATCH, connector: flags.connector });
    total += n;
    if (n < RETENTION_BATCH) break;
  }
  const what = status === 'done' ? 'done' : 'dead';
  log.info(`pruned ${plural(total, `${what} delivery`, `${what} deliveries`)} received before ${before} from ${journal.location.kind === 'sqlite' ? flags.journal : describeJournal(journal.location)}`);
}

async function replay(location: JournalLocation, entries: StoredDelivery[], flags: InboxFlags, io: CliIo): Promise<void> {
  const log = cliLogger(io, flags);
  if (entries.length === 0) {
    log.info('no stored delivery matches; nothing to replay');
    return;
  }
  const mappers = await webhookMappers([...new Set(entries.map((e) => e.connector))], flags.config, io, log);
  const spec = targetSpecOf(flags.target, io);
  const started = Date.now();
  const journal = await openDrainJournal(location);
  const drain = new Drain({
    journal,
    mappers,
    openTarget: () => openTarget(spec, { stateId: DRAIN_STATE_ID, warn: (m) => log.warn(m), stdout: io.stdout }),
    log,
    batchSize: REPLAY_BATCH,
  });
  try {
    for (let i = 0; i < entries.length && !io.signal.aborted; i += REPLAY_BATCH) {
      await drain.process(entries.slice(i, i + REPLAY_BATCH));
    }
  } finally {
    await drain.close();
    await journal.close();
  }
  const { done, dead, records } = drain.counts;
  log.info(`replayed ${plural(done + dead, 'delivery', 'deliveries')} into ${describeTarget(spec)}: ${done} done, ${dead} dead; ${summarize(records, Date.now() - started)}`);
  if (dead > 0) {
    throw new SourceError(`${plural(dead, 'delivery is still a dead letter', 'deliveries are still dead letters')} (the errors are above and in \`sync inbox list --status dead\`)`);
  }
}

function list(entries: StoredDelivery[], format: string, io: CliIo): void {
  if (format === 'json') {
    for (const d of entries) io.stdout.write(JSON.stringify(describe(d, false)) + '\n');
    return;
  }
  if (entries.length === 0) return;
  const rows = entries.map((d) => [String(d.seq), d.receivedAt, d.connector, d.event ?? '-', d.deliveryId, d.status, d.error ?? '']);
  const header = ['seq', 'received_at', 'connector', 'event', 'id', 'status', 'error'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd() + '\n';
  io.stdout.write(line(header));
  for (const r of rows) io.stdout.write(line(r));
}

/** A delivery for people: header values that prove or grant something are never shown. */
function describe(d: StoredDelivery, withBody: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seq: d.seq,
    connector: d.connector,
    id: d.deliveryId,
    event: d.event,
    received_at: d.receivedAt,
    status: d.status,
    error: d.error,
    attempts: d.attempts,
    processed_at: d.processedAt,
  };
  if (withBody) {
    out['method'] = d.method;
    out['url'] = shownUrl(d.url);
    out['headers'] = redactHeaders(d.headers);
    const text = d.body.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(d.body)) out['body'] = text;
    else out['body_base64'] = d.body.toString('base64');
  }
  return out;
}

function showText(d: StoredDelivery): string {
  const lines = [
    `delivery ${d.deliveryId} (${d.connector}${d.event ? `, ${d.event}` : ''})`,
    `  seq ${d.seq}, received ${d.receivedAt}, ${d.status}${d.error ? `: ${d.error}` : ''}, handled ${d.attempts} time${d.attempts === 1 ? '' : 's'}`,
    '',
    `${d.method} ${shownUrl(d.url)}`,
  ];
  for (const [name, values] of Object.entries(redactHeaders(d.headers))) for (const v of values) lines.push(`${name}: ${v}`);
  lines.push('', d.body.toString('utf8'));
  return lines.join('\n') + '\n';
}

const SENSITIVE = /signature|hmac|authorization|cookie|token|secret|api-?key/i;

function redactHeaders(headers: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(headers)) out[name] = SENSITIVE.test(name) ? values.map(() => '(redacted)') : values;
  return out;
}

/**
 * The listener keeps no credential in a stored URL; journals written before it stopped doing
 * so may still hold a token in a parameter such as `?token=`, which is never shown.
 */
function shownUrl(url: string): string {
  return withQueryValuesReplaced(url, isSecretParam, '(redacted)');
}

/** An RFC 3339 time, or a duration back from now: 90s, 30m, 2h, 7d, 1w. */
function sinceInstant(text: string): string {
  const ago = parseDurationMs(text);
  if (ago !== undefined) return formatInstant((Date.now() - ago) * 1000);
  const instant = normalizeInstant(text.trim());
  if (instant === undefined) throw new UsageError(`--since must be an RFC 3339 time such as 2026-03-01T00:00:00Z, or a duration such as 2h (got ${JSON.stringify(text)})`);
  return instant;
}