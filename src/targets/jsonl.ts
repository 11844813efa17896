import { ftruncateSync } from 'node:fs';
import { TargetError } from '../errors.js';
import { stringifyJson, type JsonValue } from '../protocol/json.js';
import type { RecordMessage } from '../protocol/messages.js';
import type { StreamSchema } from '../protocol/schema.js';
import { TargetFolder, appendToFile, readAt, writeAll } from './file-state.js';
import type { Target, TargetOptions } from './target.js';

/**
 * JSON Lines files, one per stream: each record as one line, numbers exactly as read. The
 * files are a log appended to across runs; the same key may appear more than once (bookmarks
 * are inclusive), so readers dedupe by key, keeping the last line.
 */

interface StreamLog {
  path: string;
  lines: string[];
}

export class JsonlTarget implements Target {
  readonly streaming = false;
  readonly description: string;
  private readonly folder: TargetFolder;
  private readonly streams = new Map<string, StreamLog>();
  /** Characters of the lines buffered since the last commit. */
  private buffered = 0;

  constructor(
    dir: string,
    private readonly options: TargetOptions,
  ) {
    this.description = `jsonl:${dir}`;
    this.folder = new TargetFolder(dir, this.description, options);
  }

  openStream(stream: StreamSchema): void {
    if (!this.streams.has(stream.stream)) {
      this.streams.set(stream.stream, { path: this.folder.streamPath(stream.stream, 'jsonl'), lines: [] });
    }
  }

  writeRecord(stream: StreamSchema, message: RecordMessage): void {
    const log = this.streams.get(stream.stream);
    if (!log) throw new TargetError(`stream "${stream.stream}" was not opened`);
    const line = stringifyJson(message.record);
    log.lines.push(line);
    this.buffered += line.length + 1;
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  commit(state: JsonValue | undefined): void {
    this.buffered = 0;
    this.folder.commit(() => {
      for (const log of this.streams.values()) {
        if (log.lines.length === 0) continue;
        const data = Buffer.from(log.lines.join('\n') + '\n', 'utf8');
        appendToFile(log.path, (fd, stats) => {
          this.dropTornLine(fd, stats.size, log.path);
          writeAll(fd, data);
        });
        log.lines = [];
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

  /**
   * A run killed in the middle of a write leaves half a line. No state covers it, so it is
   * cut off; otherwise the next record would be glued onto it and both would be unreadable.
   * Not shared with the CSV target's repair (csv.ts#inspect): a JSON line never holds a raw
   * newline, so the last one found scanning back from the end closes the last whole line, where
   * a CSV row may hold quoted newlines and is only known complete by reading from the start.
   */
  private dropTornLine(fd: number, size: number, path: string): void {
    if (size === 0) return;
    const chunk = Buffer.alloc(64 * 1024);
    if (readAt(fd, chunk, 1, size - 1) === 1 && chunk[0] === 0x0a) return;
    let keep = 0;
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - chunk.length);
      const n = readAt(fd, chunk, end - start, start);
      const lf = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (lf >= 0) {
        keep = start + lf + 1;
        break;
      }
      end = start;
    }
    ftruncateSync(fd, keep);
    this.options.warn(`${path}: removed ${size - keep} bytes of an incomplete line left by an interrupted write`);
  }
}
