import type { AnyConnector, HttpSession } from '../connector/contract.js';
import { loadConnector } from '../connector/registry.js';
import { BusyError, SourceError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { stringifyJson, type JsonObject, type JsonValue } from '../protocol/json.js';
import type { Message } from '../protocol/messages.js';
import { StateError, toSyncState } from '../protocol/state.js';
import { discoverCatalog, selectAll, selectByNames, selectFromCatalog } from '../tap/catalog.js';
import { runTap } from '../tap/runner.js';
import { LoadError, Loader } from '../targets/loader.js';
import { bookmarkValues, openHistory } from '../targets/history.js';
import { describeTarget, openTarget, type TargetSpec } from '../targets/spec.js';
import { aboutConnector, formatAbout } from './about.js';
import { connectorConfig } from './connector-config.js';
import { readJsonFile } from './files.js';
import type { Logger } from '../log.js';
import { cliLogger, terminalWidth, type CliIo, type OutputOptions } from './io.js';
import { acquireRunLock } from './run-lock.js';
import { createProgress, fitToWidth, formatCount, summarize, targetNotes } from './progress.js';
import { ReaderGoneError, watchReader } from './reader-gone.js';
import { writeMetricsFile } from './metrics-file.js';
import { createPinger } from './ping.js';
import { recordRunHistory } from './run-history.js';
import { emptyTally, runRecord, type RunTally } from './run-outcome.js';
import { sharedTablesWarning } from './shared-tables.js';
import { targetSpecOf } from './target-spec.js';

export interface RunFlags extends OutputOptions {
  config?: string;
  target: string;
  streams?: string;
  catalog?: string;
  state?: string;
  stateId?: string;
  fullRefresh?: boolean;
  discover?: boolean;
  about?: boolean;
  format?: string;
  record?: string;
  replay?: string;
  /** Dead-man's switch: URL/start, URL, URL/fail (ping.ts). */
  ping?: string;
  /** Prometheus text file written after the run (metrics-file.ts). */
  metricsFile?: string;
}

export const DEFAULT_TARGET = 'sqlite:sync.db';
const BATCH_RECORDS = 5_000;
const MAX_BATCH_AGE_MS = 5_000;

export async function runCommand(name: string, flags: RunFlags, io: CliIo): Promise<void> {
  let connector = await loadConnector(name);
  if (flags.about) {
    io.stdout.write(formatAbout(aboutConnector(connector), flags.format ?? 'text'));
    return;
  }
  const log = cliLogger(io, flags);
  // Static streams need no config to be discovered; described ones (rest) come from it.
  if (flags.discover && !connector.resolveStreams) {
    io.stdout.write(JSON.stringify(discoverCatalog(connector), null, 2) + '\n');
    return;
  }
  // From here on the run is recorded in its target's history, failures included (a config
  // that stopped working is what an operator needs to see), unless it never got its turn.
  const started = new Date();
  const spec = targetSpecOf(flags.target, io);
  const stateId = flags.stateId ?? connector.name;
  const tally = emptyTally();
  let outcome: unknown;
  let recorded = flags.discover !== true;
  const pinger = flags.ping !== undefined && recorded ? createPinger(flags.ping, log, io) : undefined;
  await pinger?.start();
  try {
    connector = await prepareAndSync(connector, flags, io, log, spec, stateId, tally, () => {
      recorded = false;
    });
  } catch (err) {
    outcome = err;
    throw err;
  } finally {
    if (recorded) {
      const run = runRecord({ connector: connector.name, stateId, startedAt: started, endedAt: new Date() }, tally, outcome, io.secrets);
      await recordRunHistory(spec, run, log);
      await pinger?.finish(run);
      if (flags.metricsFile !== undefined) {
        const lastSuccessMs = run.exitCode === 0 ? Date.parse(run.endedAt) : await lastSuccess(spec, stateId);
        writeMetricsFile(flags.metricsFile, { run, lastSuccessMs, now: Date.now() }, log);
      }
    }
    await pinger?.close();
  }
}

/** When the last successful run recorded in the target ended (ms), for a metrics file written after a failure. */
async function lastSuccess(spec: TargetSpec, stateId: string): Promise<number | undefined> {
  try {
    const history = await openHistory(spec, 'read');
    try {
      const run = (await history?.runs({ stateId, limit: 1, succeeded: true }))?.[0];
      return run === undefined ? undefined : Date.parse(run.endedAt);
    } finally {
      await history?.close();
    }
  } catch {
    return undefined; // the metric is left out; recording the run already warned about the store
  }
}

/** Everything of a run after the connector is known; returns the connector with its streams resolved. */
async function prepareAndSync(
  connector: AnyConnector,
  flags: RunFlags,
  io: CliIo,
  log: Logger,
  spec: TargetSpec,
  stateId: string,
  tally: RunTally,
  notRecorded: () => void,
): Promise<AnyConnector> {
  const config = loadConfig(connector, flags, io, log);
  const http = await httpSession(flags);
  if (connector.resolveStreams) {
    connector = { ...connector, streams: await connector.resolveStreams(config, { log, signal: io.signal, ...(http ? { http } : {}) }) };
  }
  if (flags.discover) {
    io.stdout.write(JSON.stringify(discoverCatalog(connector), null, 2) + '\n');
    return connector;
  }

  const streams = flags.catalog
    ? selectFromCatalog(connector, readJsonFile(flags.catalog, '--catalog') ?? null, flags.catalog)
    : flags.streams
      ? selectByNames(connector, splitList(flags.streams))
      : selectAll(connector);
  if (streams.length === 0) throw new UsageError('no stream is selected: check --streams or the "selected" metadata of --catalog');

  let lock;
  try {
    lock = await acquireRunLock(spec, stateId, flags.state, `sync run ${connector.name} → ${describeTarget(spec)}`);
  } catch (err) {
    // Refused because another run is busy: this one touched nothing, its history included.
    if (err instanceof BusyError) notRecorded();
    throw err;
  }
  const reader = spec.kind === 'stdout' ? watchReader(io.stdout) : undefined;
  try {
    await warnOfSharedTables(spec, connector.name, stateId, streams, log);
    await syncInto(connector, config, streams, flags, io, log, stateId, http, tally, () => reader?.gone() === true);
    return connector;
  } catch (err) {
    // Whatever the write that hit the closed pipe reported, the reader leaving is what happened.
    if (reader?.gone()) throw new ReaderGoneError();
    throw err;
  } finally {
    reader?.stop();
    await lock?.release();
  }
}

async function syncInto(
  connector: AnyConnector,
  config: object,
  streams: ReturnType<typeof selectAll>,
  flags: RunFlags,
  io: CliIo,
  log: Logger,
  stateId: string,
  http: HttpSession | undefined,
  tally: RunTally,
  readerGone: () => boolean,
): Promise<void> {
  const spec = targetSpecOf(flags.target, io);
  // Counting webhook coverage costs a call only for rows whose key is stored (change-count.ts).
  const target = await openTarget(spec, { stateId, warn: (m) => log.warn(m), stdout: io.stdout, writer: 'thread', countChanges: true });
  const progress = await createProgress(io, !flags.quiet && flags.logFormat !== 'json');
  const started = Date.now();
  let failed = true;
  let loader: Loader | undefined;
  try {
    const stored = flags.state ? readJsonFile(flags.state, '--state', { missingOk: true }) : target.readState();
    let state;
    try {
      state = toSyncState(stored);
    } catch (err) {
      if (err instanceof StateError) throw new UsageError(`${flags.state ? `--state ${flags.state}` : `state in ${target.description}`}: ${err.message}`);
      throw err;
    }
    tally.bookmarksBefore = tally.bookmarksAfter = bookmarkValues(stored);
    tally.records = progress.counts();
    const stateFile = flags.state;
    // Into a pipe, a commit only means the records were handed to the reader, not that it took
    // them in: `--state` is written once, after a complete run. A reader that stops early or an
    // interrupted run leave it as it was, and the next run sends those records again.
    const stateAtEnd = target.streaming;
    let lastState: JsonValue | undefined;
    const saveState = (file: string, value: JsonValue): void => {
      if (stateAtEnd) lastState = value;
      else writeFileAtomic(file, stringifyJson(value) + '\n');
    };
    const active = new Loader(target, {
      validate: true,
      batchRecords: BATCH_RECORDS,
      maxBatchAgeMs: MAX_BATCH_AGE_MS,
      warn: (m) => log.warn(m),
      onRecord: (s) => progress.record(s),
      onCommit: (value) => {
        tally.bookmarksAfter = bookmarkValues(value);
        if (stateFile) saveState(stateFile, value);
      },
    });
    loader = active;
    // The runner reads streams one after another: a stream is done when the next one starts.
    let current: string | undefined;
    const emit = (message: Message): void | Promise<void> => {
      if (message.type === 'SCHEMA') {
        if (current !== undefined) progress.finish(current);
        current = message.stream;
        progress.start(current);
      }
      return active.handle(message);
    };
    try {
      await runTap({
        config,
        streams,
        state,
        fullRefresh: flags.fullRefresh === true,
        emit,
        log,
        signal: io.signal,
        interruptedBy: io.interruptedBy,
        startedAt: new Date(),
        stateEveryRecords: 10_000,
        stateEveryMs: 2_000,
        ...(http ? { http } : {}),
      });
    } catch (err) {
      // What was read before the failure is committed with the last state covering it.
      // (Finishing after a failed commit only reports that failure again: nothing more is written.)
      await active.finish().catch(() => undefined);
      if (err instanceof LoadError) throw new SourceError(`${connector.name}: ${err.message}`);
      throw err;
    }
    if (current !== undefined) progress.finish(current);
    await active.finish();
    await target.close();
    if (stateFile && stateAtEnd && lastState !== undefined) writeFileAtomic(stateFile, stringifyJson(lastState) + '\n');
    failed = false;
  } finally {
    progress.stop();
    if (failed) await Promise.resolve(target.close()).catch(() => undefined);
    // What the committed batches found, also after a failure: those changes are stored.
    if (target.changesFound) tally.changes = target.changesFound();
    const line = `${connector.name} → ${target.description}: ${summarize(progress.counts(), Date.now() - started, 'nothing new', targetNotes(target))}`;
    const width = terminalWidth(io, flags);
    // Read is not written: after a failure, say how much of it is committed.
    if (!failed) log.info(fitToWidth(line, width));
    else if (readerGone()) log.info(fitToWidth(`stopped: ${line}; the reading process closed stdout`, width));
    else log.info(fitToWidth(`stopped: ${line}; ${committedNote(loader)}`, width));
  }
}

/** Once per run, when another account of the connector already writes these tables (shared-tables.ts); never fails the run. */
async function warnOfSharedTables(spec: TargetSpec, connector: string, stateId: string, streams: ReturnType<typeof selectAll>, log: Logger): Promise<void> {
  try {
    const warning = await sharedTablesWarning(spec, connector, stateId, streams.map((s) => s.definition.name));
    if (warning !== undefined) log.warn(warning);
  } catch (err) {
    // The target itself reports what is wrong with it, in a moment.
    log.debug(`could not look for other accounts in the target: ${(err as Error).message}`);
  }
}

function committedNote(loader: Loader | undefined): string {
  const n = loader?.recordsCommitted ?? 0;
  return `${formatCount(n)} ${n === 1 ? 'record' : 'records'} committed`;
}

function loadConfig(connector: AnyConnector, flags: RunFlags, io: CliIo, log: Logger): JsonObject {
  const file = flags.config ? readJsonFile(flags.config, '--config') : undefined;
  // A run verifies no webhook; a replay sends nothing over the network, so needs no secret.
  return connectorConfig(connector, file, flags.config, io, { log, checkWebhookSecrets: false, secretsOptional: flags.replay !== undefined });
}

/** --record DIR saves every HTTP exchange (secrets redacted); --replay DIR answers from them, offline. */
async function httpSession(flags: RunFlags): Promise<HttpSession | undefined> {
  if (flags.record && flags.replay) throw new UsageError('--record and --replay exclude each other');
  if (!flags.record && !flags.replay) return undefined;
  const { createRecorder, createReplayer } = await import('../http/cassette.js');
  return flags.record ? { recorder: createRecorder(flags.record) } : { replayer: createReplayer(flags.replay as string) };
}

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
