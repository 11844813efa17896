/**
 * Rows of one statement, encoded for the SQLite writer thread. Handed over as arrays of
 * values, every value was structured-cloned on both threads (about as much work as the
 * inserts themselves), and the batch's strings stayed alive until the commit, so every
 * young-generation collection of the main thread copied them again. Encoded, a batch is three
 * buffers, transferred to the writer and back, not copied: a tag per value, a Float64Array of
 * numbers (and string lengths), and the UTF-8 bytes of every string, written as each record
 * arrives. SQLite stores text as UTF-8 anyway; a lone surrogate, which UTF-8 cannot hold,
 * becomes U+FFFD.
 */

import { raw, type RawBuffer } from '../raw-buffer.js';

/** A value as bound to a statement: bigint binds as an integer, number as a double. */
export type SqlValue = string | number | bigint | null;

const NULL = 0;
const TEXT = 1;
/** A safe integer, kept as a double and bound as an integer. */
const INTEGER = 2;
const REAL = 3;
/** An integer beyond 2^53 (still within 64 bits): its decimal digits, in the text. */
const BIG_INTEGER = 4;

export interface EncodedRows {
  sql: string;
  /** Values per row: the statement's parameters. */
  width: number;
  count: number;
  tags: Uint8Array;
  numbers: Float64Array;
  /** The strings' UTF-8 bytes, one after another; `numbers` holds each one's byte length. */
  text: Uint8Array;
}

const FIRST_CAPACITY = 1024;
/** Strings up to this length are tried as ASCII in JavaScript before the native encoder. */
const SHORT_STRING = 48;
/** Strings longer than this are measured before they are copied, rather than given room for the worst case. */
const LONG_STRING = 4096;

type Role = 'tags' | 'numbers' | 'text';

/**
 * The buffers of committed batches, handed back by the writer and reused by the next
 * encoders: a load then allocates its few buffers once, instead of a growing series of them
 * for every batch, which left the process's memory fragmented and larger.
 */
export class BufferPool {
  private readonly free: Record<Role, ArrayBuffer[]> = { tags: [], numbers: [], text: [] };

  /** The largest free buffer for `role`, or a new one of `bytes`. */
  take(role: Role, bytes: number): ArrayBuffer {
    return this.free[role].pop() ?? new ArrayBuffer(bytes);
  }

  give(role: Role, buffer: ArrayBuffer): void {
    // A buffer still transferred elsewhere reads as empty (detached); one grown for a huge
    // value is let go, not kept for the rest of the load.
    if (buffer.byteLength === 0 || buffer.byteLength > MAX_POOLED_BYTES) return;
    const list = this.free[role];
    list.push(buffer);
    list.sort((a, b) => a.byteLength - b.byteLength);
    // Two batches are in the air at most (one built, one written); more is dropped.
    if (list.length > POOLED_PER_ROLE) list.shift();
  }

  /** Takes back the buffers of a batch once the writer is done with it. */
  giveBack(segments: readonly RowBuffers[]): void {
    for (const s of segments) {
      this.give('tags', s.tags.buffer as ArrayBuffer);
      this.give('numbers', s.numbers.buffer as ArrayBuffer);
      this.give('text', s.text.buffer as ArrayBuffer);
    }
  }
}

const POOLED_PER_ROLE = 4;
const GROWTH_LIMIT = 4 * 1_048_576;
/** Larger than any batch of ordinary rows (a batch commits at 4 MiB): such buffers are not kept. */
const MAX_POOLED_BYTES = 16 * 1_048_576;

export class RowEncoder {
  count = 0;
  private tags: Uint8Array;
  private numbers: Float64Array;
  private tagCount = 0;
  private numberCount = 0;
  private text: RawBuffer;
  private textBytes = 0;

  constructor(
    readonly sql: string,
    readonly width: number,
    private readonly pool: BufferPool = new BufferPool(),
  ) {
    this.tags = new Uint8Array(pool.take('tags', FIRST_CAPACITY));
    this.numbers = new Float64Array(pool.take('numbers', FIRST_CAPACITY * 8));
    this.text = raw(Buffer.from(pool.take('text', FIRST_CAPACITY * 16)));
  }

  /** Appends a row; values past `width` are ignored and missing ones are null. */
  add(row: readonly SqlValue[]): void {
    const width = this.width;
    if (this.tagCount + width > this.tags.length) this.tags = new Uint8Array(this.grown('tags', this.tags, this.tagCount, this.tagCount + width));
    if (this.numberCount + width > this.numbers.length) {
      this.numbers = new Float64Array(this.grown('numbers', this.numbers, this.numberCount * 8, (this.numberCount + width) * 8));
    }
    const tags = this.tags;
    const numbers = this.numbers;
    let t = this.tagCount;
    let n = this.numberCount;
    for (let i = 0; i < width; i++) {
      const value = row[i];
      if (value === null || value === undefined) {
        tags[t++] = NULL;
      } else if (typeof value === 'string') {
        tags[t++] = TEXT;
        numbers[n++] = this.addText(value);
      } else if (typeof value === 'number') {
        tags[t++] = Number.isSafeInteger(value) ? INTEGER : REAL;
        numbers[n++] = value;
      } else if (value >= MIN_SAFE && value <= MAX_SAFE) {
        tags[t++] = INTEGER;
        numbers[n++] = Number(value);
      } else {
        const digits = value.toString();
        tags[t++] = BIG_INTEGER;
        numbers[n++] = this.addText(digits);
      }
    }
    this.tagCount = t;
    this.numberCount = n;
    this.count++;
  }

  /**
   * Copies a string's bytes in at once, so the string itself is not kept alive until the
   * commit (batches of retained strings made every young-generation collection copy them).
   * Returns the bytes written.
   */
  private addText(value: string): number {
    // UTF-8 takes at most three bytes per UTF-16 unit; a long string is measured instead, so a
    // value of 100 MB does not reserve 300.
    const room = value.length <= LONG_STRING ? 3 * value.length : Buffer.byteLength(value, 'utf8');
    if (this.textBytes + room > this.text.length) {
      this.text = raw(Buffer.from(this.grown('text', this.text, this.textBytes, this.textBytes + room)));
    }
    const text = this.text;
    const start = this.textBytes;
    const length = value.length;
    // Short ASCII strings (codes, dates, ids: most values) are copied here, which costs less
    // than a call into the native encoder; anything else is encoded by it.
    if (length <= SHORT_STRING) {
      let i = 0;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        text[start + i] = c;
      }
      if (i === length) {
        this.textBytes = start + length;
        return length;
      }
    }
    const written = text.utf8Write(value, start);
    this.textBytes = start + written;
    return written;
  }

  /**
   * A buffer of `needed` bytes and room to grow (the old size again, at most 4 MiB: a huge value
   * does not double what it takes) holding the old one's first `used` bytes.
   */
  private grown(role: Role, old: Uint8Array | Float64Array, used: number, needed: number): ArrayBuffer {
    const next = new ArrayBuffer(needed + Math.min(old.byteLength, GROWTH_LIMIT));
    new Uint8Array(next).set(new Uint8Array(old.buffer, old.byteOffset, used));
    this.pool.give(role, old.buffer as ArrayBuffer);
    return next;
  }

  /** The rows so far, as views of the encoder's buffers; the encoder is not used after this. */
  finish(): EncodedRows {
    return {
      sql: this.sql,
      width: this.width,
      count: this.count,
      tags: this.tags.subarray(0, this.tagCount),
      numbers: this.numbers.subarray(0, this.numberCount),
      text: this.text.subarray(0, this.textBytes),
    };
  }
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What a batch's rows occupy: given back to the pool once written. */
export type RowBuffers = Pick<EncodedRows, 'tags' | 'numbers' | 'text'>;

/** The buffers to transfer with a batch of encoded rows (to the writer, and back). */
export function transferables(segments: readonly RowBuffers[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const s of segments) buffers.push(s.tags.buffer as ArrayBuffer, s.numbers.buffer as ArrayBuffer, s.text.buffer as ArrayBuffer);
  return buffers;
}

/**
 * Calls `each` with every row, in order. The same array is passed each time (the statement
 * binds it before the next row is decoded), so decoding allocates only the values.
 */
export function forEachRow(rows: EncodedRows, each: (row: SqlValue[]) => void): void {
  const { width, tags, numbers } = rows;
  // A transferred Buffer arrives as a plain Uint8Array.
  const text = raw(Buffer.from(rows.text.buffer, rows.text.byteOffset, rows.text.byteLength));
  const row = new Array<SqlValue>(width).fill(null);
  let t = 0;
  let n = 0;
  let at = 0;
  for (let r = 0; r < rows.count; r++) {
    for (let i = 0; i < width; i++) {
      switch (tags[t++]) {
        case TEXT: {
          const end = at + (numbers[n++] as number);
          row[i] = text.utf8Slice(at, end);
          at = end;
          break;
        }
        case INTEGER:
          row[i] = BigInt(numbers[n++] as number);
          break;
        case REAL:
          row[i] = numbers[n++] as number;
          break;
        case BIG_INTEGER: {
          const end = at + (numbers[n++] as number);
          row[i] = BigInt(text.latin1Slice(at, end));
          at = end;
          break;
        }
        default:
          row[i] = null;
      }
    }
    each(row);
  }
}
