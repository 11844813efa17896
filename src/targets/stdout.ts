import type { Writable } from 'node:stream';
import type { JsonValue } from '../protocol/json.js';
import { serializeMessage, type RecordMessage } from '../protocol/messages.js';
import type { StreamSchema } from '../protocol/schema.js';
import { TargetError } from '../errors.js';
import type { Target } from './target.js';

const FLUSH_BYTES = 64 * 1024;

/**
 * Target `-`: Singer NDJSON on stdout, for pipes and any Singer target. Lines are gathered
 * into 64 KiB writes; when the reader is slower than us the loader waits for 'drain'.
 * A commit returns only once every line before it was taken by the OS (the write callback
 * of the last chunk ran): whoever marks something done after a commit (a STATE file, the
 * listener's journal) must not do so while its lines still sit in this process's memory.
 * A closed pipe (EPIPE, e.g. `| head`) ends the run with a clear error, not a stack trace.
 */
export class StdoutTarget implements Target {
  readonly streaming = true;
  readonly description = 'stdout';
  private buffer = '';
  private failure: Error | undefined;
  /** Set while the stream holds more than it wants; resolved by its 'drain'. */
  private waiting: Promise<void> | undefined;
  /** Resolved when the last chunk handed to the stream has been written (chunks complete in order). */
  private written: Promise<void> = Promise.resolve();

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      this.failure ??= err;
    });
  }

  openStream(stream: StreamSchema): void {
    const message = { type: 'SCHEMA' as const, stream: stream.stream, schema: stream.schema, key_properties: stream.keyProperties };
    const withBookmark = stream.versionProperty === undefined ? message : { ...message, bookmark_properties: [stream.versionProperty] };
    this.append(serializeMessage(withBookmark));
  }

  writeRecord(_stream: StreamSchema, message: RecordMessage): void {
    this.append(serializeMessage(message));
  }

  activateVersion(stream: StreamSchema, version: number): void {
    this.append(serializeMessage({ type: 'ACTIVATE_VERSION', stream: stream.stream, version }));
  }

  backpressure(): Promise<void> | undefined {
    return this.waiting;
  }

  async commit(state: JsonValue | undefined): Promise<void> {
    if (state !== undefined) this.append(serializeMessage({ type: 'STATE', value: state }));
    await this.writeOut();
  }

  readState(): JsonValue | undefined {
    return undefined;
  }

  writeState(): void {
    throw new TargetError('stdout keeps no state: use --state FILE');
  }

  async close(): Promise<void> {
    await this.writeOut();
  }

  /** Hands over what is buffered and waits until the OS has taken all of it. */
  private async writeOut(): Promise<void> {
    this.flush();
    await this.waiting;
    await this.written;
    this.check();
  }

  private append(line: string): void {
    this.buffer += line + '\n';
    if (this.buffer.length >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    this.check();
    if (this.buffer === '') return;
    const chunk = this.buffer;
    this.buffer = '';
    let markWritten = (): void => {};
    this.written = new Promise((resolve) => (markWritten = resolve));
    const roomLeft = this.out.write(chunk, (err?: Error | null) => {
      // A stream already destroyed reports through this callback only, not 'error'.
      if (err) this.failure ??= err;
      markWritten();
    });
    if (!roomLeft && !this.waiting) {
      this.waiting = new Promise((resolve) => {
        const done = (): void => {
          this.out.off('drain', done);
          this.out.off('error', done);
          this.out.off('close', done);
          this.waiting = undefined;
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('error', done);
        this.out.on('close', done);
      });
    }
  }

  private check(): void {
    if (!this.failure) return;
    const code = (this.failure as NodeJS.ErrnoException).code;
    throw new TargetError(code === 'EPIPE' ? 'stdout was closed by the reading process (EPIPE)' : `writing to stdout failed: ${this.failure.message}`);
  }
}
