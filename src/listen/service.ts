import { stringifyJson, type JsonObject } from '../protocol/json.js';
import { dirname } from 'node:path';
import type { AnyConnector } from '../connector/contract.js';
import type { Logger } from '../log.js';
import { openTarget, parseTargetSpec, describeTarget } from '../targets/spec.js';
import { DiskRoom } from './disk-room.js';
import { startInlineDrain, startWorkerDrain, type DrainHandle } from './drain-host.js';
import { DRAIN_STATE_ID, DrainHistory } from './drain-history.js';
import type { DrainCounts } from './drain.js';
import { openDrainJournal, openJournalStore, SqliteJournalStore, type BacklogRow, type JournalLocation, type JournalStore } from './journal-store.js';
import { startJournalThread, type JournalThread } from './journal-thread.js';
import { JournalWriter } from './journal-writer.js';
import { WebhookMapper } from './mapping.js';
import { ListenMetrics } from './metrics.js';
import { Retention, RETENTION_BATCH, RETENTION_EVERY_MS } from './retention.js';
import { startListener, startMetricsServer, type Listener, type MetricsServer, type ServedConnector, type Unavailable } from './server.js';
import { schemeProblem, verify } from './verify/index.js';

/**
 * A running listener: journal, group-commit writer, HTTP server and drain, wired together
 * and stopped in the order that loses nothing (stop accepting, finish journal writes, drain).
 */

export interface ServiceOptions {
  connectors: ReadonlyMap<string, ServedConnector>;
  host: string;
  port: number;
  /** A `--target` spec. */
  target: string;
  /** An SQLite file, or a PostgreSQL schema shared with other listeners and drain workers. */
  journal: JournalLocation;
  log: Logger;
  /** Where Singer messages go for target `-`. */
  stdout: NodeJS.WritableStream;
  requestTimeoutMs: number;
  /** The validated config of each connector, for the drain thread to resolve it the same way. */
  configs?: ReadonlyMap<string, JsonObject>;
  /**
   * `worker` (the CLI): the target may block without stalling HTTP. `inline`: same thread.
   * `none`: only store (a PostgreSQL journal whose deliveries `sync drain` workers write).
   */
  drain: 'worker' | 'inline' | 'none';
  /**
   * Where SQLite group commits run: `worker` (its own thread, so fsync does not stall HTTP) or
   * `inline` (this thread). Default: as `drain`. A PostgreSQL journal is asynchronous: always
   * this thread.
   */
  journalThread?: 'worker' | 'inline';
  /** Done deliveries older than `olderThanMs` are deleted every `everyMs` (default 5 min); undefined keeps them. */
  retention?: { olderThanMs: number; everyMs?: number } | undefined;
  /** The drain failed: the caller should stop the service. */
  onFailure: (err: Error) => void;
  minFreeBytes?: number;
  maxQueued?: number;
  maxInFlight?: number;
  maxBodyBytesInFlight?: number;
  /** prom-client's process series (CPU, memory, event loop, GC) beside the listener's own at /metrics; the CLI's choice. */
  processMetrics?: boolean;
  /** Scrubbed from the error lines the drain keeps in the target's run history. */
  secrets?: readonly string[];
  /** `GET /metrics` on an address of its own instead of the webhook port (which then answers 404 for it). */
  metricsAddress?: { host: string; port: number } | undefined;
}

export interface ServiceReport {
  listener: Listener;
  drained: DrainCounts | undefined;
  /** Pending in the journal after the stop (with a shared journal: all of its listeners'). */
  pending: number;
  failure: Error | undefined;
}

export interface Service {
  readonly url: string;
  readonly port: number;
  /** Where `GET /metrics` is served when it has a port of its own (`metricsAddress`). */
  readonly metricsUrl: string | undefined;
  readonly listener: Listener;
  /** What `GET /metrics` serves. */
  readonly metrics: ListenMetrics;
  /** Stop taking deliveries, finish journal writes, drain (up to drainDeadlineMs), close. */
  stop(options?: { requestGraceMs?: number; drainDeadlineMs?: number }): Promise<ServiceReport>;
}

const DRAIN_BATCH = 1_000;
const RETRY_AFTER_SECONDS = 5;
/** After the journal failed, deliveries (and readiness) are refused until it takes a write again, tried this often. */
const JOURNAL_RECHECK_MS = 250;
/** A group commit waits at most this long for a lock held by the drain or `sync inbox`; past it, 503. */
const JOURNAL_BUSY_MS = 1_000;

export async function startService(options: ServiceOptions): Promise<Service> {
  const { log } = options;
  const names = [...options.connectors.keys()];
  const spec = parseTargetSpec(options.target);
  // Schema, and the pending count at stop. SQLite commits wait at most a second for the drain's short writes; past that, 503.
  const journal = await openJournalStore(options.journal, { busyTimeoutMs: JOURNAL_BUSY_MS });
  let drain: DrainHandle | undefined;
  let metricsServer: MetricsServer | undefined;
  let thread: JournalThread | undefined;
  let retention: Retention | undefined;
  let failure: Error | undefined;
  const backlog = backlogReader(journal);
  const metrics = new ListenMetrics({ connectors: names, backlog: backlog.read, processMetrics: options.processMetrics === true });
  const fail = (err: Error): void => {
    failure ??= err;
    options.onFailure(err);
  };
  try {
    if (options.drain === 'worker') {
      const configs = Object.fromEntries(names.map((name) => [name, stringifyJson(options.configs?.get(name) ?? {})]));
      drain = startWorkerDrain(
        { journal: options.journal, connectors: names, configs, target: options.target, batchSize: DRAIN_BATCH, secrets: [...(options.secrets ?? [])] },
        log,
        options.stdout,
        fail,
      );
    } else if (options.drain === 'inline') {
      const mappers = new Map(names.map((name) => [name, new WebhookMapper(connectorOf(options.connectors, name))]));
      drain = startInlineDrain(
        {
          journal: await openDrainJournal(options.journal),
          mappers,
          openTarget: () => openTarget(spec, { stateId: DRAIN_STATE_ID, warn: (m) => log.warn(m), stdout: options.stdout }),
          log,
          batchSize: DRAIN_BATCH,
          history: new DrainHistory({ spec, log, secrets: options.secrets ?? [] }),
        },
        describeTarget(spec),
        fail,
      );
    }
    const drainLoop = drain;
    const wake = drainLoop === undefined ? (): void => undefined : (): void => drainLoop.wake();
    const retain = options.retention
      ? { olderThanMs: options.retention.olderThanMs, everyMs: options.retention.everyMs ?? RETENTION_EVERY_MS, batch: RETENTION_BATCH }
      : undefined;
    if (options.journal.kind === 'sqlite' && (options.journalThread ?? options.drain) === 'worker') {
      thread = await startJournalThread({ journalPath: options.journal.path, busyTimeoutMs: JOURNAL_BUSY_MS, retention: retain }, log, fail);
    } else if (retain) {
      retention = new Retention(journal, { ...retain, log });
      retention.start();
    }
    const writer = new JournalWriter(
      thread ?? journal,
      {
        maxQueued: options.maxQueued ?? 20_000,
        maxQueuedBytes: 256 * 1_048_576,
        recheckMs: JOURNAL_RECHECK_MS,
        commitsInFlight: thread ? 1 : journal.commitsInFlight,
      },
      () => wake(),
      (failure) => log.debug(`journal still unavailable: ${failure.message}; trying again in ${JOURNAL_RECHECK_MS} ms`),
    );
    // A PostgreSQL journal's disk is the server's, watched there.
    const disk = options.journal.kind === 'sqlite' ? new DiskRoom(dirname(options.journal.path), options.minFreeBytes ?? 64 * 1_048_576) : undefined;
    const listener = await startListener({
      host: options.host,
      port: options.port,
      connectors: options.connectors,
      writer,
      log,
      requestTimeoutMs: options.requestTimeoutMs,
      headersTimeoutMs: Math.min(10_000, options.requestTimeoutMs),
      maxInFlight: options.maxInFlight ?? 4_096,
      maxBodyBytesInFlight: options.maxBodyBytesInFlight ?? 512 * 1_048_576,
      unavailable: (): Unavailable | undefined => {
        // Nothing is allocated while the journal takes deliveries: this runs for every one.
        const journalProblem = writer.unavailable();
        if (journalProblem !== undefined) return { text: journalProblem, label: 'journal unavailable' };
        const diskProblem = disk?.check();
        return diskProblem === undefined ? undefined : { text: diskProblem, label: 'disk nearly full' };
      },
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      metrics,
      serveMetrics: options.metricsAddress === undefined,
    });
    if (options.metricsAddress !== undefined) {
      try {
        metricsServer = await startMetricsServer({ ...options.metricsAddress, metrics, log });
      } catch (err) {
        await listener.close();
        throw err;
      }
    }
    const running = drain;
    const scraped = metricsServer;
    return {
      url: listener.url,
      port: listener.port,
      metricsUrl: scraped === undefined ? undefined : `${scraped.url}/metrics`,
      listener,
      metrics,
      async stop({ requestGraceMs = 10_000, drainDeadlineMs = 30_000 } = {}) {
        // New deliveries get 503 while the port stays open; accepted ones finish their journal write.
        listener.stopAccepting();
        await listener.settled(requestGraceMs);
        await writer.idle();
        writer.close();
        await retention?.stop();
        await thread?.close();
        const drained = await running?.stop(drainDeadlineMs).catch((err: unknown) => {
          failure ??= err as Error;
          return undefined;
        });
        await listener.close();
        // Scraped to the end: the drain's last figures are there while it empties the journal.
        await scraped?.close();
        backlog.close();
        const pending = await journal.pendingCount(names).catch((err: unknown) => {
          log.warn(`counting the pending deliveries failed: ${(err as Error).message}`);
          return 0;
        });
        await journal.close();
        return { listener, drained, pending, failure };
      },
    };
  } catch (err) {
    await drain?.stop(0).catch(() => undefined);
    await retention?.stop();
    await thread?.close().catch(() => undefined);
    backlog.close();
    await journal.close();
    throw err;
  }
}

/**
 * What /metrics counts the backlog with. SQLite: a read-only connection of its own that never
 * waits for a lock (in WAL mode a reader is not blocked by commits; in the rare case it would
 * be, the last known counts are shown). PostgreSQL: the journal's own reading connections.
 */
function backlogReader(journal: JournalStore): { read: () => Promise<BacklogRow[]>; close: () => void } {
  if (!(journal instanceof SqliteJournalStore)) return { read: () => journal.backlog(), close: () => {} };
  let reader: SqliteJournalStore | undefined;
  return {
    read: async () => {
      reader ??= new SqliteJournalStore(journal.location, { readonly: true, busyTimeoutMs: 0 });
      return reader.backlog();
    },
    close: () => void reader?.close(),
  };
}

/** A connector with webhook support, ready to serve: its verifier holds the scheme and the secrets. */
export function serveConnector(
  connector: AnyConnector,
  secrets: readonly string[],
  options: { maxBodyBytes: number; toleranceSeconds: number },
): ServedConnector {
  const webhooks = connector.webhooks;
  if (!webhooks) throw new Error(`${connector.name} has no webhook support`);
  const problem = schemeProblem(webhooks.scheme);
  if (problem !== undefined) throw new Error(`${connector.name}: its webhook scheme cannot be used: ${problem}`);
  const list = [...secrets];
  return {
    name: connector.name,
    connector,
    webhooks,
    maxBodyBytes: Math.min(webhooks.maxBodyBytes ?? options.maxBodyBytes, options.maxBodyBytes),
    verify: (request) => {
      const result = verify(webhooks.scheme, request, list, { toleranceSeconds: options.toleranceSeconds });
      if (result.ok) return result;
      // The connector may know more about why (a scheme that signs the URL names the URL it checked).
      const detail = webhooks.refusalDetail?.(request, result.reason);
      const refused = { ok: false as const, reason: result.reason, refusal: result.reason };
      return detail === undefined ? refused : { ...refused, reason: `${result.reason}: ${detail}` };
    },
  };
}

function connectorOf(connectors: ReadonlyMap<string, ServedConnector>, name: string): ServedConnector['connector'] {
  const served = connectors.get(name);
  if (!served) throw new Error(`connector ${name} is not served`);
  return served.connector;
}
