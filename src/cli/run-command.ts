import { envName } from '../connector/config.js';
import type { AnyConnector, HttpSession, StreamDefinition } from '../connector/contract.js';
import type { Replayer } from '../http/cassette.js';
import { ReplayMissError } from '../http/errors.js';
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
import { withReaderWatched } from './reader-gone.js';
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
  const log = cliLogger(io, flags);
  if (flags.about) {
    io.stdout.write(formatAbout(aboutConnector(connector, await aboutStreams(connector, flags, io, log)), flags.format ?? 'text'));
    return;
  }
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
        const input = run.exitCode === 0 ? { run, lastSuccessMs: Date.parse(run.endedAt) } : { run, ...(await earlierFigures(spec, stateId, flags.state, tally)) };
        writeMetricsFile(flags.metricsFile, { ...input, now: Date.now() }, log);
      }
    }
    await pinger?.close();
  }
}

/**
 * What a metrics file written after a failure takes from before the run: when the last successful
 * run ended, the streams it knew (their records gauge says 0 for this run rather than vanishing),
 * and, when the run failed before reading its state, the stored bookmarks (their ages stay true).
 */
async function earlierFigures(
  spec: TargetSpec,
  stateId: string,
  stateFile: string | undefined,
  tally: RunTally,
): Promise<{ lastSuccessMs: number | undefined; storedBookmarks?: Record<string, JsonValue>; knownStreams: string[] }> {
  let lastSuccessMs: number | undefined;
  const known = new Set(Object.keys(tally.bookmarksAfter));
  let storedBookmarks: Record<string, JsonValue> | undefined;
  try {
    const history = await openHistory(spec, 'read');
    try {
      const run = (await history?.runs({ stateId, limit: 1, succeeded: true }))?.[0];
      if (run !== undefined) {
        lastSuccessMs = Date.parse(run.endedAt);
        for (const stream of Object.keys(run.records)) known.add(stream);
      }
      if (!tally.stateRead) {
        const stored = stateFile === undefined ? await history?.currentState(stateId) : (readJsonFile(stateFile, '--state', { missingOk: true }) ?? undefined);
        storedBookmarks = bookmarkValues(stored);
      }
    } finally {
      await history?.close();
    }
  } catch {
    // What could not be read is left out; recording the run already warned about the store.
  }
  for (const stream of Object.keys(storedBookmarks ?? {})) known.add(stream);
  return { lastSuccessMs, ...(storedBookmarks === undefined ? {} : { storedBookmarks }), knownStreams: [...known] };
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
  try {
    await warnOfSharedTables(spec, connector.name, stateId, streams, log);
    await withReaderWatched(spec.kind === 'stdout' ? io.stdout : undefined, (readerGone) =>
      syncInto(connector, config, streams, flags, io, log, stateId, http, tally, readerGone),
    );
    return connector;
  } finally {
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
    tally.stateRead = true;
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

/**
 * The streams `--about` lists: the connector's own; else built from the settings without a
 * request (`offline`, and a replayer that refuses any request a connector would still make),
 * from --config (or the environment) when given, else from the connector's `aboutConfig`.
 * Undefined when they need a config and none was given.
 */
async function aboutStreams(connector: AnyConnector, flags: RunFlags, io: CliIo, log: Logger): Promise<readonly StreamDefinition<object>[] | undefined> {
  if (!connector.resolveStreams) return connector.streams;
  const config = flags.config !== undefined ? aboutSettings(connector, flags, io, log) : (settingsFromEnvironment(connector, io, log) ?? connector.aboutConfig);
  if (config === undefined) return undefined;
  const noRequest: Replayer = {
    replay: (request) => {
      throw new ReplayMissError(`--about makes no request (${request.method} ${new URL(request.url).pathname})`);
    },
  };
  try {
    return await connector.resolveStreams(config, { log, signal: io.signal, offline: true, http: { replayer: noRequest } });
  } catch (err) {
    if (!(err instanceof ReplayMissError)) throw err;
    log.debug(`--about: ${err.message}`);
    return undefined;
  }
}

/** --config for --about: checked as for a run, but nothing is sent, so no secret is required. */
function aboutSettings(connector: AnyConnector, flags: RunFlags, io: CliIo, log: Logger): JsonObject {
  const file = flags.config ? readJsonFile(flags.config, '--config') : undefined;
  return connectorConfig(connector, file, flags.config, io, { log, checkWebhookSecrets: false, secretsOptional: true });
}

/** The settings the environment alone gives, when they are complete; undefined otherwise. */
function settingsFromEnvironment(connector: AnyConnector, io: CliIo, log: Logger): JsonObject | undefined {
  const given = Object.keys(connector.config.properties).some((p) => io.env[envName(connector.name, p)] !== undefined);
  if (!given) return undefined;
  try {
    return connectorConfig(connector, undefined, undefined, io, { log, checkWebhookSecrets: false, secretsOptional: true });
  } catch (err) {
    if (err instanceof UsageError) return undefined;
    throw err;
  }
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
