import { raw } from '../raw-buffer.js';
import { ProtocolError } from './messages.js';

/**
 * Splits a byte stream into lines (NDJSON on stdin, JSON Lines in BATCH files) in linear
 * time. The unfinished line is kept as the list of chunks it arrived in and joined once,
 * when its newline arrives; only new bytes are searched for a newline. (Joining text and
 * searching it again on every chunk made a 100 MB line take a quarter of an hour.)
 *
 * It splits bytes, not text: a newline byte never occurs inside a multi-byte UTF-8
 * character, and each line is decoded whole, so a character split across chunks is intact.
 */

/** The longest line accepted, in bytes without its line ending: the line is held in memory whole. */
export const MAX_LINE_BYTES = 128 * 1_048_576;

const EMPTY = Buffer.alloc(0);

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  /** The number of the last line returned (1-based, empty lines count). */
  lineNumber = 0;
  /** Bytes searched for a newline so far: each byte once, which the tests hold it to. */
  bytesScanned = 0;
  /** Bytes copied to join lines that arrived in several chunks: each byte at most once. */
  bytesCopied = 0;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private chunk: Buffer = EMPTY;
  private offset = 0;

  constructor(private readonly maxLineBytes: number = MAX_LINE_BYTES) {}

  /** Hands over the next chunk; call `next()` until it returns undefined before pushing again. */
  push(chunk: Buffer | string): void {
    if (this.offset < this.chunk.length) throw new Error('LineSplitter.push: the previous chunk still holds lines');
    this.chunk = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.offset = 0;
  }

  /**
   * The next complete line of the chunks pushed so far, without its `\n` or `\r\n`; undefined
   * when the rest is an unfinished line (kept for the next chunk). Throws ProtocolError naming
   * the line once it is longer than the maximum, without waiting for its end.
   */
  next(): string | undefined {
    const chunk = this.chunk;
    const start = this.offset;
    if (start >= chunk.length) return undefined;
    const newline = chunk.indexOf(LF, start);
    if (newline === -1) {
      this.bytesScanned += chunk.length - start;
      this.offset = chunk.length;
      this.keep(start === 0 ? chunk : chunk.subarray(start));
      return undefined;
    }
    this.bytesScanned += newline + 1 - start;
    this.offset = newline + 1;
    return this.complete(chunk, start, newline);
  }

  /** At the end of input: the last line when it had no newline, else undefined. */
  end(): string | undefined {
    if (this.parts.length === 0) return undefined;
    return this.complete(EMPTY, 0, 0);
  }

  private keep(piece: Buffer): void {
    this.partBytes += piece.length;
    // One byte of room: the line may still turn out to end in `\r\n`.
    if (this.partBytes > this.maxLineBytes + 1) this.tooLong();
    this.parts.push(piece);
  }

  /** The line ending with `last[start, end)`, decoded (a line within one chunk is decoded in place, not copied). */
  private complete(last: Buffer, start: number, end: number): string {
    let bytes = last;
    let from = start;
    let to = end;
    if (this.parts.length > 0) {
      const total = this.partBytes + end - start;
      if (total > this.maxLineBytes + 1) this.tooLong();
      this.parts.push(last.subarray(start, end));
      bytes = Buffer.concat(this.parts, total);
      this.bytesCopied += total;
      this.parts = [];
      this.partBytes = 0;
      from = 0;
      to = total;
    }
    if (to > from && bytes[to - 1] === CR) to--;
    if (to - from > this.maxLineBytes) this.tooLong();
    this.lineNumber++;
    // Node's decoder itself: `toString` checks its arguments first, and this runs once a line.
    return raw(bytes).utf8Slice(from, to);
  }

  private tooLong(): never {
    throw new ProtocolError(this.lineNumber + 1, `line longer than ${describeBytes(this.maxLineBytes)}, the most a line may hold`);
  }
}

function describeBytes(n: number): string {
  if (n % 1_048_576 === 0) return `${n / 1_048_576} MiB`;
  return `${n.toLocaleString('en-US')} bytes`;
}
