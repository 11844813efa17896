import { InputError } from '../errors.js';
import { stringifyJson } from '../protocol/json.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import { parseMessageOrBatch, ProtocolError } from '../protocol/messages.js';
import { LoadError, Loader } from '../targets/loader.js';
import { openTarget, type TargetSpec } from '../targets/spec.js';
import { InterruptedError } from '../errors.js';
import { cliLogger, terminalWidth, type CliIo, type OutputOptions } from './io.js';
import { createProgress, fitToWidth, formatCount, summarize, targetNotes } from './progress.js';
import { BatchFileError, readBatch } from './batch-reader.js';
import { readChunks } from './read-chunks.js';
import { withReaderWatched } from './reader-gone.js';
import { targetSettings, type TargetSettings } from './target-settings.js';
import { targetSpecOf } from './target-spec.js';

export interface TargetFlags extends OutputOptions {
  stateId: string;
  /** `--no-validate` given: false; undefined when the command line leaves it to --config. */
  validate?: boolean;
  /** `--batch-size`, when given on the command line. */
  batchSize?: string;
  /** `--config FILE`: a target config, as orchestrators pass one (see target-settings.ts). */
  config?: string;
}

/**
 * `sync target SPEC`: a Singer target. Reads messages on stdin from any tap and writes them
 * to SPEC; after each commit it prints the bare state value that commit made durable (the
 * Singer target convention). A bad line stops the load with its line number; what was
 * committed before it stays, with its state. Lines are at most MAX_LINE_BYTES; a BATCH
 * message's files are read here, their records loaded as if they were RECORD lines.
 */
export async function targetCommand(specText: string, flags: TargetFlags, io: CliIo): Promise<void> {
  const spec = targetSpecOf(specText, io);
  const settings = targetSettings(flags, cliLogger(io, flags));
  // With target `-` stdout carries the messages themselves, so states are not printed again.
  const printStates = spec.kind !== 'stdout';
  await withReaderWatched(spec.kind === 'stdout' ? io.stdout : undefined, (readerGone) => load(spec, flags, settings, printStates, io, readerGone));
}

async function load(
  spec: TargetSpec,
  flags: TargetFlags,
  settings: TargetSettings,
  printStates: boolean,
  io: CliIo,
  readerGone: () => boolean,
): Promise<void> {
  const log = cliLogger(io, flags);
  const target = await openTarget(spec, { stateId: flags.stateId, warn: (m) => log.warn(m), stdout: io.stdout, writer: 'thread' });
  const progress = await createProgress(io, !flags.quiet && flags.logFormat !== 'json');
  const started = Date.now();
  const loader = new Loader(target, {
    validate: settings.validate,
    batchRecords: settings.batchRecords,
    maxBatchAgeMs: 5_000,
    warn: (m) => log.warn(m),
    onRecord: (s) => progress.record(s),
    ...(printStates ? { onCommit: (state) => void io.stdout.write(stringifyJson(state) + '\n') } : {}),
  });
  const lines = new LineSplitter();
  let failure: unknown;
  try {
    // Synchronous unless the loader commits or a BATCH is read: no promise per line on the hot path.
    const handleLine = (text: string): Promise<void> | undefined => {
      if (text.trim() === '') return undefined;
      const message = parseMessageOrBatch(text, lines.lineNumber);
      if (message.type === 'SCHEMA') progress.start(message.stream);
      if (message.type === 'BATCH') return readBatch(message, { record: (m) => loader.handle(m), signal: io.signal });
      return loader.handle(message);
    };
    reading: for await (const chunk of readChunks(io.stdin, io.signal)) {
      lines.push(chunk);
      for (let text = lines.next(); text !== undefined; text = lines.next()) {
        const pending = handleLine(text);
        if (pending) await pending;
        if (io.signal.aborted) break reading;
      }
    }
    if (!io.signal.aborted) {
      const last = lines.end();
      if (last !== undefined) await handleLine(last);
    }
  } catch (err) {
    failure = err;
  }
  try {
    // Also after a target error: a stream the target refuses (a reserved name) must not lose the
    // records buffered before it; after a failed commit this only reports that failure again.
    await loader.finish();
  } catch (err) {
    failure ??= err;
  } finally {
    // Always: a writer thread left running would keep the process alive.
    await Promise.resolve(target.close()).catch((err: unknown) => (failure ??= err));
    progress.stop();
    const summary = `${target.description}: ${summarize(progress.counts(), Date.now() - started, undefined, targetNotes(target))}`;
    const width = terminalWidth(io, flags);
    // Read is not written: after a failure, say how much of it is committed.
    if (!failure) log.info(fitToWidth(summary, width));
    else if (readerGone()) log.info(fitToWidth(`stopped: ${summary}; the reading process closed stdout`, width));
    else log.info(fitToWidth(`stopped: ${summary}; ${formatCount(loader.recordsCommitted)} committed`, width));
  }
  if (failure instanceof ProtocolError) throw new InputError(`stdin ${failure.message}`);
  if (failure instanceof LoadError || failure instanceof BatchFileError) throw new InputError(`stdin line ${lines.lineNumber}: ${failure.message}`);
  if (failure) throw failure;
  const by = io.interruptedBy();
  if (by) throw new InterruptedError(by);
}
