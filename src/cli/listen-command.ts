import { envName } from '../connector/config.js';
import type { AnyConnector, WebhookSpec } from '../connector/contract.js';
import { loadConnector } from '../connector/registry.js';
import { BusyError, SyncError, UsageError } from '../errors.js';
import type { JsonObject } from '../protocol/json.js';
import type { ServedConnector } from '../listen/server.js';
import { resolveForListen } from '../listen/resolve.js';
import { DEFAULT_RETAIN, parseDurationMs, retryHorizonWarning } from '../listen/retention.js';
import { serveConnector, startService, type Service, type ServiceReport } from '../listen/service.js';
import { describeJournal, parseJournalSpec, type JournalLocation } from '../listen/journal-store.js';
import { describeTarget } from '../targets/spec.js';
import { connectorConfig, pickSection } from './connector-config.js';
import { readJsonFile } from './files.js';
import { createLogger, type Logger } from '../log.js';
import { addSecret, scrub, type CliIo, type OutputOptions } from './io.js';
import { formatCount } from './progress.js';
import { acquireLock } from './lock.js';
import { targetSpecOf } from './target-spec.js';

export interface ListenFlags extends OutputOptions {
  port: string;
  host: string;
  target: string;
  journal: string;
  config?: string;
  maxBody: string;
  requestTimeout: string;
  /** How long done deliveries are kept (a duration such as 7d, or `forever`); default 7d. */
  retain?: string;
  /** False (`--no-drain`): only store; `sync drain` workers write the deliveries (PostgreSQL journal). */
  drain?: boolean;
  /** `GET /metrics` on this port instead of the webhook port. */
  metricsPort?: string;
  /** ...bound to this address (default: --host). */
  metricsHost?: string;
}

const TOLERANCE_SECONDS = 300;
/** On SIGTERM: requests in flight get this long to finish their journal write... */
const REQUEST_GRACE_MS = 10_000;
/** ...and the drain this long to empty the journal into the target. */
const DRAIN_DEADLINE_MS = 30_000;

/**
 * `sync listen`: one HTTP listener for the webhooks of one or more connectors. Deliveries
 * are verified, journaled (durable, deduplicated) and only then acknowledged; a drain on its
 * own thread turns them into records of the connectors' streams in the target. Stops cleanly
 * on SIGTERM/SIGINT: 503 to new deliveries, finish journal writes, drain, exit 0.
 */
export async function listenCommand(names: string[], flags: ListenFlags, io: CliIo): Promise<void> {
  const logging = batchedLogger(io, flags);
  try {
    await listen(names, flags, io, logging.log, logging.flush);
  } finally {
    logging.flush();
  }
}

async function listen(names: string[], flags: ListenFlags, io: CliIo, log: Logger, flushLog: () => void): Promise<void> {
  const port = integer(flags.port, '--port', 0, 65_535);
  if (flags.metricsHost !== undefined && flags.metricsPort === undefined) throw new UsageError('--metrics-host needs --metrics-port');
  const metricsAddress = flags.metricsPort === undefined ? undefined : { host: flags.metricsHost ?? flags.host, port: integer(flags.metricsPort, '--metrics-port', 0, 65_535) };
  const maxBodyBytes = integer(flags.maxBody, '--max-body', 1, 1 << 30);
  const requestTimeoutMs = integer(flags.requestTimeout, '--request-timeout', 1, 3_600) * 1_000;
  const target = describeTarget(targetSpecOf(flags.target, io));
  const retainMs = retention(flags.retain ?? DEFAULT_RETAIN);
  const journal = journalSpecOf(flags.journal, io);
  const draining = flags.drain !== false;
  if (!draining && journal.kind === 'sqlite') {
    throw new UsageError('--no-drain needs a PostgreSQL journal (--journal postgres://…), which `sync drain` workers read; an SQLite journal is drained by its listener');
  }
  const horizon = retainMs === undefined ? undefined : retryHorizonWarning('--retain', flags.retain ?? '', retainMs);
  if (horizon !== undefined) log.warn(horizon);
  const unique = [...new Set(names)];
  const file = flags.config ? readJsonFile(flags.config, '--config') : undefined;
  const served = new Map<string, ServedConnector>();
  const configs = new Map<string, JsonObject>();
  for (const name of unique) {
    const loaded = await loadConnector(name);
    if (!loaded.webhooks && !loaded.resolveWebhooks) throw new UsageError(`${loaded.name} has no webhook support`);
    const config = connectorConfig(loaded, unique.length > 1 ? pickSection(file, loaded.name, flags.config) : file, flags.config, io, { log });
    const connector = await resolveForListen(loaded, config, { log, signal: io.signal });
    const webhooks = connector.webhooks;
    if (!webhooks) throw new UsageError(`${connector.name}: the config describes no webhooks`);
    configs.set(connector.name, config);
    const secrets = webhookSecrets(connector, webhooks, config);
    io.secrets.push(...secrets.filter((s) => s.length >= 4));
    served.set(connector.name, serveConnector(connector, secrets, { maxBodyBytes, toleranceSeconds: TOLERANCE_SECONDS }));
  }

  // One listener per SQLite journal: two drains would race over the same deliveries. A
  // PostgreSQL journal is shared: its drains claim deliveries row by row.
  const lock = journal.kind === 'sqlite' ? acquireLock(`${journal.path}.lock`, `sync listen with journal ${flags.journal}`) : undefined;
  const shownJournal = journal.kind === 'sqlite' ? flags.journal : describeJournal(journal);
  const started = Date.now();
  const failed = new AbortController();
  let report: ServiceReport | undefined;
  try {
    let service: Service;
    try {
      service = await startService({
        connectors: served,
        host: flags.host,
        port,
        target: flags.target,
        journal,
        log,
        stdout: io.stdout,
        requestTimeoutMs,
        drain: draining ? 'worker' : 'none',
        retention: retainMs === undefined ? undefined : { olderThanMs: retainMs },
        configs,
        // A service's own process: its CPU, memory and event-loop lag belong beside its deliveries at /metrics.
        processMetrics: true,
        secrets: io.secrets,
        metricsAddress,
        onFailure: () => failed.abort(),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Which of the two ports: the bind error names the one it tried.
      const [host, tried, flag] =
        metricsAddress !== undefined && (err as { port?: unknown }).port === metricsAddress.port && metricsAddress.port !== port
          ? [metricsAddress.host, metricsAddress.port, '--metrics-port']
          : [flags.host, port, '--port'];
      if (code === 'EADDRINUSE') throw new BusyError(`${host}:${tried} is already in use; choose another ${flag}`);
      if (code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new UsageError(`cannot listen on ${host}:${tried} (${code})`);
      throw err;
    }
    const paths = unique.map((name) => `POST ${service.url}/webhooks/${name}`).join(', ');
    const scrape = service.metricsUrl === undefined ? '' : `; metrics at ${service.metricsUrl}`;
    const line = `listening on ${service.url}: ${paths} → ${draining ? target : 'no drain here'} (journal ${shownJournal})${scrape}`;
    // With --port 0 (or --metrics-port 0) the address is news a script needs, even when --quiet hides information.
    flushLog();
    if (flags.quiet && (port === 0 || metricsAddress?.port === 0)) io.stderr.write(line + '\n');
    else log.info(line);
    await untilAborted(io.signal, failed.signal);
    log.info(failed.signal.aborted ? 'stopping after a failure' : 'stopping: new deliveries get 503; finishing journal writes, then draining');
    report = await service.stop({ requestGraceMs: REQUEST_GRACE_MS, drainDeadlineMs: DRAIN_DEADLINE_MS });
  } finally {
    lock?.release();
  }
  log.info(summary(report, Date.now() - started, target));
  if (report.failure) throw report.failure instanceof SyncError ? report.failure : new SyncError(`the drain failed: ${report.failure.message}`);
  if (report.pending > 0 && journal.kind === 'sqlite') {
    log.warn(`${plural(report.pending, 'delivery is', 'deliveries are')} still pending in ${flags.journal}; the next \`sync listen\` drains them`);
  } else if (report.pending > 0) {
    log.info(`${plural(report.pending, 'delivery is', 'deliveries are')} pending in ${shownJournal}, for its drains (\`sync listen\`, \`sync drain\`)`);
  }
}

/**
 * The logger of `cliLogger` (same format, level and scrubbing), but lines written within one
 * turn of the event loop reach stderr in one write: one line per delivery would otherwise be
 * one system call each on the HTTP thread. A `kill -9` may lose the last turn's lines (never a
 * delivery: the journal is the record).
 */
function batchedLogger(io: CliIo, options: OutputOptions): { log: Logger; flush: () => void } {
  let lines: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    io.stderr.write(scrub(text, io.secrets));
  };
  const log = createLogger({
    format: options.logFormat === 'json' ? 'json' : 'text',
    level: options.debug ? 'debug' : options.quiet ? 'warn' : 'info',
    write: (line) => {
      lines.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  });
  return { log, flush };
}

/** `--journal`: a file, or a PostgreSQL schema (its password kept out of every line written). */
export function journalSpecOf(text: string, io: CliIo): JournalLocation {
  const location = parseJournalSpec(text, io.cwd);
  if (location.kind === 'postgres') for (const secret of location.secrets) addSecret(io, secret);
  return location;
}

export function untilAborted(...signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((s) => s.aborted)) return resolve();
    for (const s of signals) s.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Every secret a connector verifies with; several per setting (space-separated) during a rotation. */
function webhookSecrets(connector: AnyConnector, webhooks: WebhookSpec, config: JsonObject): string[] {
  const secrets: string[] = [];
  for (const setting of webhooks.secretSettings) {
    const value = config[setting];
    const values = typeof value === 'string' ? value.split(/\s+/) : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    secrets.push(...values.filter((s) => s !== ''));
  }
  if (secrets.length === 0) {
    const where = webhooks.secretSettings.map((s) => `${s} (--config, or ${envName(connector.name, s)})`).join(' or ');
    throw new UsageError(`${connector.name}: no webhook secret is set, so deliveries cannot be verified: set ${where}`);
  }
  return secrets;
}

/** --retain: milliseconds, or undefined for `forever`. */
function retention(text: string): number | undefined {
  if (/^(forever|never|off)$/i.test(text.trim())) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 60_000) {
    throw new UsageError(`--retain must be a duration such as 7d, 72h or 90m (at least 1m), or forever; got ${JSON.stringify(text)}`);
  }
  return ms;
}

function integer(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** `listen → sqlite:sync.db: 120 deliveries stored (2 duplicates, 3 refused); customers 50, orders 70 (120 records), 0 dead, 0 pending; up 35.2 s` */
function summary(report: ServiceReport, millis: number, target: string): string {
  const { stats } = report.listener;
  const counts = report.drained;
  const pending = report.pending;
  const refused = [...stats.byStatus].filter(([status]) => status >= 300).reduce((n, [, c]) => n + c, 0);
  const records = counts ? [...counts.records] : [];
  const total = records.reduce((n, [, c]) => n + c, 0);
  const streams = records.map(([s, n]) => `${s} ${formatCount(n)}`).join(', ');
  return (
    `listen → ${target}: ${plural(stats.stored, 'delivery', 'deliveries')} stored (${plural(stats.duplicates, 'duplicate')}, ${refused} refused); ` +
    `${streams ? streams + ' ' : ''}(${plural(total, 'record')}), ${counts?.dead ?? 0} dead, ${pending} pending; up ${(millis / 1000).toFixed(1)} s`
  );
}

/** `1 delivery`, `2 deliveries`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
