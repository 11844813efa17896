import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { isJsonObject, parseJson } from '../protocol/json.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import { describeJsonError, ProtocolError, type BatchMessage, type RecordMessage } from '../protocol/messages.js';
import { LoadError } from '../targets/loader.js';
import { readChunks } from './read-chunks.js';

/**
 * Reads the files of a BATCH message (the Meltano SDK's batch mode: one record per line,
 * JSON Lines, optionally gzipped) and hands each record on as the RECORD message it stands
 * for, in manifest order, so validation, batching and commits are exactly those of RECORD
 * lines, and a STATE after the BATCH is committed only after its records.
 */

/** A file of a BATCH that could not be read or holds something that is not a valid record. */
export class BatchFileError extends Error {
  override name = 'BatchFileError';
  constructor(
    readonly file: string,
    /** The line of the file, when the problem is one line. */
    readonly line: number | undefined,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`BATCH file ${file}${line === undefined ? '' : ` line ${line}`}: ${problem}`, options);
  }
}

export interface BatchReaderOptions {
  /** Takes one record; a returned promise is awaited before the next (the loader committing). */
  record: (message: RecordMessage) => Promise<void> | undefined;
  /** Stops reading between lines and chunks once aborted. */
  signal: AbortSignal;
}

/** Feeds every record of the batch's files to `options.record`; resolves when all were taken. */
export async function readBatch(batch: BatchMessage, options: BatchReaderOptions): Promise<void> {
  for (const url of batch.manifest) {
    if (options.signal.aborted) return;
    await readBatchFile(batch, fileURLToPath(url), options);
  }
}

async function readBatchFile(batch: BatchMessage, file: string, options: BatchReaderOptions): Promise<void> {
  const source = createReadStream(file);
  // pipeline destroys the gunzip stream with the file's error (missing, a folder, unreadable),
  // so reading it reports that error instead of waiting forever.
  const input = batch.encoding.compression === 'gzip' ? pipeline(source, createGunzip(), () => undefined) : source;
  const splitter = new LineSplitter();
  const take = async (text: string): Promise<void> => {
    if (text.trim() === '') return;
    const message = toRecord(batch.stream, text, file, splitter.lineNumber);
    try {
      const pending = options.record(message);
      if (pending) await pending;
    } catch (err) {
      if (err instanceof LoadError) throw new BatchFileError(file, splitter.lineNumber, err.message, { cause: err });
      throw new FromRecordHandler(err);
    }
  };
  try {
    for await (const chunk of readChunks(input, options.signal)) {
      splitter.push(chunk);
      for (let text = splitter.next(); text !== undefined; text = splitter.next()) {
        await take(text);
        if (options.signal.aborted) return;
      }
    }
    const last = splitter.end();
    if (last !== undefined) await take(last);
  } catch (err) {
    // The target's own failures go on as they are: the caller treats them differently.
    if (err instanceof FromRecordHandler) throw err.error;
    if (err instanceof BatchFileError) throw err;
    if (err instanceof ProtocolError) throw new BatchFileError(file, err.line, err.problem, { cause: err });
    if (isSystemError(err)) throw new BatchFileError(file, undefined, `cannot be read (${err.message})`, { cause: err });
    throw err;
  } finally {
    source.destroy();
  }
}

/** Carries an error of `options.record` past the handling meant for reading errors. */
class FromRecordHandler extends Error {
  constructor(readonly error: unknown) {
    super('a failure of the record handler');
  }
}

function toRecord(stream: string, text: string, file: string, line: number): RecordMessage {
  let parsed;
  try {
    parsed = parseJson(text);
  } catch (err) {
    throw new BatchFileError(file, line, describeJsonError(err), { cause: err });
  }
  if (!isJsonObject(parsed.value)) throw new BatchFileError(file, line, 'a record must be a JSON object');
  const message: RecordMessage = { type: 'RECORD', stream, record: parsed.value };
  if (parsed.lossless) message.lossless = true;
  return message;
}

/** Errors of the file system and of zlib (a file that is not gzip, or cut short) carry a `code`. */
function isSystemError(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}
