import { describe, expect, it } from 'vitest';
import { parseMessage, parseMessageOrBatch, ProtocolError } from '../../src/protocol/messages.js';

const batch = (fields: Record<string, unknown>): string => JSON.stringify({ type: 'BATCH', stream: 'users', ...fields });
const gzip = { format: 'jsonl', compression: 'gzip' };

describe('BATCH messages', () => {
  it('parses the Meltano SDK shape', () => {
    const line = batch({ encoding: gzip, manifest: ['file:///tmp/b/users-1.json.gz', 'file:///tmp/b/users%202.json.gz'] });
    expect(parseMessageOrBatch(line, 1)).toEqual({
      type: 'BATCH',
      stream: 'users',
      encoding: { format: 'jsonl', compression: 'gzip' },
      manifest: ['file:///tmp/b/users-1.json.gz', 'file:///tmp/b/users%202.json.gz'],
    });
  });

  it.each([[{ format: 'jsonl' }], [{ format: 'jsonl', compression: null }], [{ format: 'jsonl', compression: 'none' }]])(
    'reads %j as uncompressed',
    (encoding) => {
      const parsed = parseMessageOrBatch(batch({ encoding, manifest: ['file:///tmp/a.jsonl'] }), 1);
      expect(parsed).toMatchObject({ type: 'BATCH', encoding: { format: 'jsonl', compression: 'none' } });
    },
  );

  it.each([
    [{ encoding: { format: 'parquet', compression: 'gzip' }, manifest: ['file:///a'] }, 'BATCH: unsupported encoding format "parquet" (only "jsonl" can be read)'],
    [{ encoding: { format: 'jsonl', compression: 'zstd' }, manifest: ['file:///a'] }, 'BATCH: unsupported compression "zstd" (only "gzip" or "none")'],
    [{ manifest: ['file:///a'] }, 'BATCH: "encoding" must be a JSON object with a "format"'],
    [{ encoding: {}, manifest: ['file:///a'] }, 'BATCH: "encoding.format" must be a string'],
    [{ encoding: gzip }, 'BATCH: "manifest" must be a non-empty list of file URLs'],
    [{ encoding: gzip, manifest: [] }, 'BATCH: "manifest" must be a non-empty list of file URLs'],
    [{ encoding: gzip, manifest: 'file:///a' }, 'BATCH: "manifest" must be a non-empty list of file URLs'],
    [{ encoding: gzip, manifest: ['file:///a', 7] }, 'BATCH: manifest entry 2 is not a string'],
    [{ encoding: gzip, manifest: ['/tmp/a.json.gz'] }, 'BATCH: manifest entry 1 is not a URL: "/tmp/a.json.gz"'],
    [
      { encoding: gzip, manifest: ['s3://bucket/users-1.json.gz'] },
      'BATCH: manifest entry 1 is not a file:// URL: "s3://bucket/users-1.json.gz" (only local files can be read)',
    ],
    [{ encoding: gzip, manifest: ['file://path/to/batch/file/1'] }, 'BATCH: manifest entry 1 is not a local absolute file URL: "file://path/to/batch/file/1"'],
    [{ stream: 7, encoding: gzip, manifest: ['file:///a'] }, 'BATCH: "stream" must be a non-empty string'],
  ])('refuses %j, naming the line', (fields, problem) => {
    let error: unknown;
    try {
      parseMessageOrBatch(batch(fields), 12);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).line).toBe(12);
    expect((error as ProtocolError).message.startsWith(`line 12: ${problem}`)).toBe(true);
  });

  it('is refused by parseMessage, whose callers would hand it to the loader and lose its records', () => {
    const line = batch({ encoding: gzip, manifest: ['file:///tmp/a.json.gz'] });
    expect(() => parseMessage(line, 4)).toThrow('line 4: BATCH: batch files are not read here');
  });
});
