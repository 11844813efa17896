import { StringDecoder } from 'node:string_decoder';
import { InputError, TargetError } from '../errors.js';
import { stringifyJson } from '../protocol/json.js';
import { parseMessage, ProtocolError } from '../protocol/messages.js';
import { LoadError, Loader } from '../targets/loader.js';
import { openTarget, parseTargetSpec } from '../targets/spec.js';
import { InterruptedError } from '../errors.js';
import { cliLogger, type CliIo, type OutputOptions } from './io.js';
import { createProgress, summarize } from './progress.js';

export interface TargetFlags extends OutputOptions {
  stateId: string;
  validate: boolean;
  batchSize: string;
}

/**
 * `sync target SPEC`: a Singer target. Reads messages on stdin from any tap and writes them
 * to SPEC; after each commit it prints the bare state value that commit made durable (the
 * Singer target convention). A bad line stops the load with its line number; what was
 * committed before it stays, with its state.
 */
export async function targetCommand(specText: string, flags: TargetFlags, io: CliIo): Promise<void> {
  const log = cliLogger(io, flags);
  const spec = parseTargetSpec(specText);
  const batchRecords = Number(flags.batchSize);
  if (!Number.isInteger(batchRecords) || batchRecords < 1) throw new InputError(`--batch-size must be a positive integer, got ${flags.batchSize}`);
  // With target `-` stdout carries the messages themselves, so states are not printed again.
  const printStates = spec.kind !== 'stdout';
  const target = await openTarget(spec, { stateId: flags.stateId, warn: (m) => log.warn(m), stdout: io.stdout, writer: 'thread' });
  const progress = await createProgress(io, !flags.quiet && flags.logFormat !== 'json');
  const started = Date.now();
  const loader = new Loader(target, {
    validate: flags.validate,
    batchRecords,
    maxBatchAgeMs: 5_000,
    warn: (m) => log.warn(m),
    onRecord: (s) => progress.record(s),
    ...(printStates ? { onCommit: (state) => void io.stdout.write(stringifyJson(state) + '\n') } : {}),
  });
  let line = 0;
  let failure: unknown;
  try {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    // Synchronous unless the loader commits: no promise per line on the hot path.
    const handleLine = (text: string): Promise<void> | undefined => {
      line++;
      if (text.trim() === '') return undefined;
      return loader.handle(parseMessage(text, line));
    };
    reading: for await (const chunk of io.stdin) {
      const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        const pending = handleLine(text.slice(start, end));
        if (pending) await pending;
        start = nl + 1;
        if (io.signal.aborted) break reading;
      }
      rest = text.slice(start);
    }
    rest += decoder.end();
    if (!io.signal.aborted && rest !== '') await handleLine(rest);
  } catch (err) {
    failure = err;
  }
  try {
    if (!(failure instanceof TargetError)) await loader.finish();
  } catch (err) {
    failure ??= err;
  } finally {
    // Always: a writer thread left running would keep the process alive.
    await Promise.resolve(target.close()).catch((err: unknown) => (failure ??= err));
    progress.stop();
    log.info(`${failure ? 'stopped: ' : ''}${target.description}: ${summarize(progress.counts(), Date.now() - started)}`);
  }
  if (failure instanceof ProtocolError) throw new InputError(`stdin ${failure.message}`);
  if (failure instanceof LoadError) throw new InputError(`stdin line ${line}: ${failure.message}`);
  if (failure) throw failure;
  const by = io.interruptedBy();
  if (by) throw new InterruptedError(by);
}
