import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchFileError, readBatch } from '../../src/cli/batch-reader.js';
import { readChunks } from '../../src/cli/read-chunks.js';
import type { BatchMessage, RecordMessage } from '../../src/protocol/messages.js';
import { LoadError } from '../../src/targets/loader.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir('sync-batch-reader-');
afterAll(tmp.cleanup);

let folders = 0;
/** Real files in a fresh folder: name → lines. */
function files(contents: Record<string, string[]>, gzip = false): (name: string) => string {
  const dir = join(tmp.dir, `f${++folders}`);
  mkdirSync(dir);
  for (const [name, lines] of Object.entries(contents)) {
    const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
    writeFileSync(join(dir, name), gzip ? gzipSync(bytes) : bytes);
  }
  return (name) => pathToFileURL(join(dir, name)).href;
}

const batchOf = (manifest: string[], compression: 'gzip' | 'none' = 'none'): BatchMessage => ({
  type: 'BATCH',
  stream: 'users',
  encoding: { format: 'jsonl', compression },
  manifest,
});

describe('readBatch', () => {
  it('hands on every record of every file in order, flagging exact-number records', async () => {
    const url = files({ 'a.json.gz': ['{"id":1}', '{"id":12345678901234567890}'], 'b.json.gz': ['', '{"id":3}'] }, true);
    const seen: RecordMessage[] = [];
    await readBatch(batchOf([url('a.json.gz'), url('b.json.gz')], 'gzip'), { signal: new AbortController().signal, record: (m) => void seen.push(m) });
    expect(seen.map((m) => [m.type, m.stream, String(m.record['id']), m.lossless === true])).toEqual([
      ['RECORD', 'users', '1', false],
      ['RECORD', 'users', '12345678901234567890', true],
      ['RECORD', 'users', '3', false],
    ]);
  });

  it('awaits what the record handler returns before the next record', async () => {
    const url = files({ 'a.json': ['{"id":1}', '{"id":2}'] });
    const events: string[] = [];
    await readBatch(batchOf([url('a.json')]), {
      signal: new AbortController().signal,
      record: (m) => {
        events.push(`record ${String(m.record['id'])}`);
        return new Promise<void>((resolve) => setImmediate(resolve)).then(() => void events.push(`committed ${String(m.record['id'])}`));
      },
    });
    expect(events).toEqual(['record 1', 'committed 1', 'record 2', 'committed 2']);
  });

  it('stops between records once aborted, and reads no further file', async () => {
    const url = files({ 'a.json': ['{"id":1}', '{"id":2}', '{"id":3}'], 'b.json': ['{"id":4}'] });
    const controller = new AbortController();
    const seen: unknown[] = [];
    await readBatch(batchOf([url('a.json'), url('b.json')]), {
      signal: controller.signal,
      record: (m) => {
        seen.push(m.record['id']);
        if (seen.length === 2) controller.abort();
        return undefined;
      },
    });
    expect(seen).toEqual([1, 2]);
  });

  it('names the file and line of a record the loader refuses; other errors of the handler pass unchanged', async () => {
    const url = files({ 'a.json': ['{"id":1}', '{"id":2}'] });
    const refuse = readBatch(batchOf([url('a.json')]), {
      signal: new AbortController().signal,
      record: (m) => {
        if (m.record['id'] === 2) throw new LoadError('RECORD of stream "users" is invalid: id must be string');
        return undefined;
      },
    });
    await expect(refuse).rejects.toThrow(BatchFileError);
    await expect(refuse).rejects.toThrow(`BATCH file ${new URL(url('a.json')).pathname} line 2: RECORD of stream "users" is invalid`);
    const failure = Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
    const fail = readBatch(batchOf([url('a.json')]), {
      signal: new AbortController().signal,
      record: () => Promise.reject(failure),
    });
    await expect(fail).rejects.toBe(failure);
  });
});

describe('readChunks', () => {
  it('ends at once when aborted while a read is waiting, and releases the stream', async () => {
    const stream = new PassThrough();
    const controller = new AbortController();
    const chunks: string[] = [];
    const reading = (async () => {
      for await (const chunk of readChunks(stream, controller.signal)) {
        chunks.push(chunk.toString());
        // The input stays open: only the abort can end this loop.
        if (chunks.length === 1) controller.abort();
      }
    })();
    stream.write('first');
    await reading;
    expect(chunks).toEqual(['first']);
    expect(stream.destroyed).toBe(true);
  });

  it('ends when aborted with no data at all, and passes on errors of the stream otherwise', async () => {
    const idle = new PassThrough();
    const controller = new AbortController();
    const reading = (async () => {
      for await (const chunk of readChunks(idle, controller.signal)) throw new Error(`unexpected ${chunk.toString()}`);
    })();
    controller.abort();
    await reading;
    expect(idle.destroyed).toBe(true);
    const broken = new PassThrough();
    const failing = (async () => {
      for await (const _chunk of readChunks(broken, new AbortController().signal)) {
        // read to the failure
      }
    })();
    broken.destroy(new Error('EIO'));
    await expect(failing).rejects.toThrow('EIO');
  });
});
