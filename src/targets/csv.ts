import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, renameSync, unlinkSync, type Stats } from 'node:fs';
import { TargetError } from '../errors.js';
import { fsyncDir } from '../fs-atomic.js';
import { LosslessNumber, stringifyJson, type JsonObject, type JsonValue } from '../protocol/json.js';
import type { RecordMessage } from '../protocol/messages.js';
import type { StreamSchema } from '../protocol/schema.js';
import { TargetFolder, appendToFile, readAt, writeAll } from './file-state.js';
import { notInSchemaWarning, type Target, type TargetOptions } from './target.js';

/**
 * CSV files (RFC 4180), one per stream, appended to across runs. The first row names the
 * columns: the columns already in the file, then the schema's properties, then properties
 * met in records but not in the schema. When a commit needs columns the file lacks, the file
 * is rewritten once with the wider header (temporary file, then rename); old rows get empty
 * fields. Rows end with LF, not CRLF: every common reader accepts it, and a line-oriented
 * tool sees one row per line. UTF-8, no byte-order mark (it would join the first column name).
 *
 * Fields: null or absent is an empty field, and the empty string is `""`, so the two stay
 * apart; booleans `true`/`false`; numbers as read (exact text for long ones); objects and
 * arrays as JSON text. A field is quoted when it holds a comma, a quote, or any control
 * character (CR, LF, NUL, ...), so every character round-trips.
 */

interface CsvStream {
  schema: StreamSchema;
  path: string;
  records: JsonObject[];
  /** Properties met in records but not in the schema, in the order first seen. */
  extra: Set<string>;
}

/** What this target left in a file, so the next commit knows the header without reading it again. */
interface KnownFile {
  ino: number;
  size: number;
  /** undefined: the file is empty. */
  header: string[] | undefined;
}

const CHUNK = 1024 * 1024;
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be quoted
const NEEDS_QUOTES = /[",\x00-\x1f\x7f]/;
const LONE_SURROGATE = /\p{Cs}/u;

export class CsvTarget implements Target {
  readonly streaming = false;
  readonly description: string;
  private readonly folder: TargetFolder;
  private readonly streams = new Map<string, CsvStream>();
  private readonly files = new Map<string, KnownFile>();
  private readonly chunk = Buffer.alloc(CHUNK);
  /** Characters of the records buffered since the last commit, roughly. */
  private buffered = 0;

  constructor(
    dir: string,
    private readonly options: TargetOptions,
  ) {
    this.description = `csv:${dir}`;
    this.folder = new TargetFolder(dir, this.description, options);
  }

  openStream(stream: StreamSchema): void {
    for (const key of Object.keys(stream.properties)) checkText(key, stream.stream, key);
    const known = this.streams.get(stream.stream);
    if (known) known.schema = stream;
    else this.streams.set(stream.stream, { schema: stream, path: this.folder.streamPath(stream.stream, 'csv'), records: [], extra: new Set() });
  }

  writeRecord(stream: StreamSchema, message: RecordMessage): void {
    const s = this.streams.get(stream.stream);
    if (!s) throw new TargetError(`stream "${stream.stream}" was not opened`);
    let record = message.record;
    let bytes = 0;
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (typeof value === 'string') {
        checkText(value, stream.stream, key);
        bytes += value.length;
      } else if (value !== null && typeof value === 'object' && !(value instanceof LosslessNumber)) {
        // Written as JSON text anyway: made now, so the batch knows its size (a copy of the
        // record holds the text; the caller's record is left alone).
        const text = stringifyJson(value);
        if (record === message.record) record = { ...record };
        Object.defineProperty(record, key, { value: text, enumerable: true, writable: true, configurable: true });
        bytes += text.length;
      } else {
        bytes += 8;
      }
      if (Object.hasOwn(s.schema.properties, key) || s.extra.has(key)) continue;
      checkText(key, stream.stream, key);
      s.extra.add(key);
      this.options.warn(notInSchemaWarning(stream.stream, key));
    }
    s.records.push(record);
    this.buffered += bytes;
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  commit(state: JsonValue | undefined): void {
    this.buffered = 0;
    this.folder.commit(() => {
      for (const s of this.streams.values()) {
        if (s.records.length === 0) continue;
        appendToFile(s.path, (fd, stats) => this.writeRows(s, fd, stats));
        s.records = [];
      }
    }, state);
  }

  readState(): JsonValue | undefined {
    return this.folder.readState();
  }

  writeState(value: JsonValue | undefined): void {
    this.folder.writeState(value);
  }

  close(): void {
    this.folder.close();
  }

  private writeRows(s: CsvStream, fd: number, stats: Stats): void {
    let known = this.files.get(s.path);
    // Another run sharing the folder may have appended or widened the file since.
    if (!known || known.ino !== stats.ino || known.size !== stats.size) known = this.inspect(fd, stats, s.path);
    const header = known.header;
    const columns = [...new Set([...(header ?? []), ...Object.keys(s.schema.properties), ...s.extra])];
    const rows = Buffer.from(encodeRows(s, columns), 'utf8');
    let after: Stats;
    if (header === undefined) {
      writeAll(fd, Buffer.concat([Buffer.from(headerLine(columns), 'utf8'), rows]));
      after = fstatSync(fd);
    } else if (columns.length > header.length) {
      after = this.rewriteWider(fd, known.size, s, header.length, columns, rows);
    } else {
      writeAll(fd, rows);
      after = fstatSync(fd);
    }
    this.files.set(s.path, { ino: after.ino, size: after.size, header: columns });
  }

  /**
   * Reads the header of an existing file and checks that it ends with a whole row. A run
   * killed in the middle of a write leaves part of a row that no state covers: it is cut off,
   * or the next rows would be read as part of it. This reads the whole file, once per run (and
   * again only if another run sharing the folder changed the file). Not shared with the JSONL
   * target's repair (jsonl.ts#dropTornLine), which only looks back from the end for a newline:
   * here a newline may be inside a quoted field, so only reading from the start tells row ends.
   */
  private inspect(fd: number, stats: Stats, path: string): KnownFile {
    const scanner = new RowScanner();
    const headerParts: Buffer[] = [];
    let headerDone = false;
    let lastEnd = 0;
    for (let pos = 0; pos < stats.size; ) {
      const n = readAt(fd, this.chunk, Math.min(CHUNK, stats.size - pos), pos);
      if (n === 0) break;
      const view = this.chunk.subarray(0, n);
      const ends = scanner.rowEnds(view);
      if (!headerDone) {
        const first = ends[0];
        headerParts.push(Buffer.from(first === undefined ? view : view.subarray(0, first)));
        headerDone = first !== undefined;
      }
      const last = ends[ends.length - 1];
      if (last !== undefined) lastEnd = pos + last + 1;
      pos += n;
    }
    let size = stats.size;
    if (lastEnd < size) {
      ftruncateSync(fd, lastEnd);
      this.options.warn(`${path}: removed ${size - lastEnd} bytes of an incomplete row left by an interrupted write`);
      size = lastEnd;
    }
    const header = headerDone ? parseRow(Buffer.concat(headerParts).toString('utf8')) : undefined;
    return { ino: stats.ino, size, header };
  }

  /** Writes header, old rows padded to the new width, and new rows to a temporary file, then renames it over. */
  private rewriteWider(fd: number, size: number, s: CsvStream, oldWidth: number, columns: string[], rows: Buffer): Stats {
    // A short name of our own: `<stream file>.tmp` could pass the 255-byte limit of a name.
    const tmp = this.folder.tempPath();
    // Rows of a zero-column file are empty lines: one field fewer than commas to add.
    const pad = Buffer.from(','.repeat(oldWidth === 0 ? columns.length - 1 : columns.length - oldWidth));
    const out = openSync(tmp, 'wx');
    try {
      writeAll(out, Buffer.from(headerLine(columns), 'utf8'));
      const scanner = new RowScanner();
      let inHeader = true;
      for (let pos = 0; pos < size; ) {
        const n = readAt(fd, this.chunk, Math.min(CHUNK, size - pos), pos);
        if (n === 0) break;
        const view = this.chunk.subarray(0, n);
        const pieces: Buffer[] = [];
        let from = inHeader ? n : 0;
        for (const end of scanner.rowEnds(view)) {
          if (inHeader) {
            inHeader = false;
            from = end + 1;
            continue;
          }
          pieces.push(view.subarray(from, end), pad);
          from = end; // the LF goes out with the next piece
        }
        pieces.push(view.subarray(from));
        writeAll(out, Buffer.concat(pieces));
        pos += n;
      }
      writeAll(out, rows);
      fsyncSync(out);
      const stats = fstatSync(out);
      closeSync(out);
      renameSync(tmp, s.path);
      fsyncDir(this.folder.dir);
      return stats;
    } catch (err) {
      try {
        closeSync(out);
      } catch {
        // already closed
      }
      try {
        unlinkSync(tmp);
      } catch {
        // best effort: a leftover temporary file is harmless
      }
      throw new TargetError(`cannot widen the header of ${s.path}: ${(err as Error).message}`);
    }
  }
}

/**
 * Finds the LFs that end rows, across chunks: an LF inside quotes is part of a field. Quote
 * parity is enough because a quote inside a field is doubled.
 */
class RowScanner {
  private quoted = false;

  rowEnds(bytes: Uint8Array): number[] {
    const ends: number[] = [];
    let quoted = this.quoted;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x22) quoted = !quoted;
      else if (b === 0x0a && !quoted) ends.push(i);
    }
    this.quoted = quoted;
    return ends;
  }
}

/** The fields of one row (without its LF). An empty line is a row of no columns. */
function parseRow(line: string): string[] {
  if (line === '') return [];
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quoted) {
      if (c !== '"') field += c;
      else if (line[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function headerLine(columns: string[]): string {
  return columns.map(csvText).join(',') + '\n';
}

function encodeRows(s: CsvStream, columns: string[]): string {
  const lines: string[] = [];
  for (const record of s.records) {
    // hasOwn: a record without `constructor` must not pick up Object.prototype's.
    lines.push(columns.map((c) => csvField(Object.hasOwn(record, c) ? record[c] : undefined)).join(','));
  }
  lines.push('');
  return lines.join('\n');
}

function csvField(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  switch (typeof value) {
    case 'string':
      return csvText(value);
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (value instanceof LosslessNumber) return value.text;
  return csvText(stringifyJson(value));
}

/** UTF-8 cannot hold half a surrogate pair: writing one would silently change the text. (JSON text escapes it.) */
function checkText(text: string, stream: string, property: string): void {
  if (LONE_SURROGATE.test(text)) {
    throw new TargetError(
      `stream "${stream}", property ${JSON.stringify(property)}: the text holds an unpaired UTF-16 surrogate, which a UTF-8 CSV file cannot store`,
    );
  }
}

function csvText(text: string): string {
  if (text === '' || NEEDS_QUOTES.test(text)) return `"${text.replaceAll('"', '""')}"`;
  return text;
}
