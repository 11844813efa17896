import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_BYTES } from '../../src/protocol/line-splitter.js';
import { ProtocolError } from '../../src/protocol/messages.js';

/** Every line of `chunks`, as `sync target` reads them: next() until undefined, then the next chunk. */
function split(chunks: Array<Buffer | string>, splitter = new LineSplitter()): string[] {
  const lines: string[] = [];
  for (const chunk of chunks) {
    splitter.push(chunk);
    for (let line = splitter.next(); line !== undefined; line = splitter.next()) lines.push(line);
  }
  const last = splitter.end();
  if (last !== undefined) lines.push(last);
  return lines;
}

/** `bytes` cut into pieces of `size` bytes, cutting through characters and line ends alike. */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('LineSplitter', () => {
  it('splits lines and drops \\n and \\r\\n', () => {
    expect(split(['a\nb\r\nc\n'])).toEqual(['a', 'b', 'c']);
  });

  it('keeps empty lines, so line numbers match the input', () => {
    const splitter = new LineSplitter();
    expect(split(['a\n\n\r\nb\n'], splitter)).toEqual(['a', '', '', 'b']);
    expect(splitter.lineNumber).toBe(4);
  });

  it('returns a last line that has no newline', () => {
    expect(split(['a\nlast'])).toEqual(['a', 'last']);
    expect(split(['a\n'])).toEqual(['a']);
    expect(split([])).toEqual([]);
  });

  it('joins a line split across chunks, and a \\r\\n split between \\r and \\n', () => {
    expect(split(['{"a":', '1}\r', '\n{"b"', ':2}'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('decodes a multi-byte UTF-8 character split across chunks', () => {
    const text = 'é☃😀\n😀x\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let size = 1; size <= 5; size++) {
      expect(split(pieces(bytes, size))).toEqual(['é☃😀', '😀x']);
    }
  });

  it('accepts string chunks too', () => {
    expect(split(['é\n', 'x'])).toEqual(['é', 'x']);
  });

  it('searches each byte for a newline once and copies it at most once, however the line is cut', () => {
    // 4 MiB in one line, in 4,096 chunks: rescanning the pending text for each chunk would
    // examine about 2,000 times as many bytes.
    const line = Buffer.alloc(4 * 1_048_576, 'x');
    const input = Buffer.concat([Buffer.from('first\n'), line, Buffer.from('\nlast\n')]);
    const splitter = new LineSplitter();
    const lines = split(pieces(input, 1_024), splitter);
    expect(lines.map((l) => l.length)).toEqual([5, line.length, 4]);
    expect(splitter.bytesScanned).toBe(input.length);
    expect(splitter.bytesCopied).toBeLessThanOrEqual(input.length);
  });

  it('refuses a line past the maximum as soon as it is that long, naming its line', () => {
    const splitter = new LineSplitter(10);
    splitter.push('ok\n0123456789');
    expect(splitter.next()).toBe('ok');
    expect(splitter.next()).toBeUndefined();
    splitter.push('ab');
    let error: unknown;
    try {
      splitter.next();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).line).toBe(2);
    expect((error as ProtocolError).message).toBe('line 2: line longer than 10 bytes, the most a line may hold');
  });

  it('accepts a line of exactly the maximum, also with \\r\\n, and refuses one byte more', () => {
    expect(split(['0123456789\r', '\n'], new LineSplitter(10))).toEqual(['0123456789']);
    expect(split(['01234', '56789'], new LineSplitter(10))).toEqual(['0123456789']);
    expect(() => split(['0123456789A\r\n'], new LineSplitter(10))).toThrow('line 1: line longer than 10 bytes');
    expect(() => split(['01234', '56789A\n'], new LineSplitter(10))).toThrow('line 1: line longer than 10 bytes');
    expect(() => split(['01234', '56789A'], new LineSplitter(10))).toThrow('line 1: line longer than 10 bytes');
  });

  it('has a documented default maximum of 128 MiB', () => {
    expect(MAX_LINE_BYTES).toBe(128 * 1_048_576);
    expect(() => split(['x'.repeat(20), '\n'], new LineSplitter())).not.toThrow();
  });
});
