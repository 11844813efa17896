import type { Logger, LogFields, LogLevel } from './log.js';

/**
 * What every worker thread of `sync` needs across the thread boundary, written once: calls
 * answered by id (the SQLite and PostgreSQL writers' commits, the journal's appends, the
 * drain's stdout chunks) and log lines sent to the main thread's logger.
 */

/** Calls sent to another thread, each settled when an answer with its id comes back. */
export class PendingCalls<T> {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (value: T) => void; reject: (err: Error) => void }>();
  private failure: Error | undefined;

  /** Sends a call with a fresh id; resolves with its answer. After `failAll`, rejects at once. */
  call(send: (id: number) => void): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      send(id);
    });
  }

  resolve(id: number, value: T): void {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    waiter?.resolve(value);
  }

  reject(id: number, err: Error): void {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    waiter?.reject(err);
  }

  /** The other thread is gone: every call waiting, and every later one, fails with `err`. */
  failAll(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
  }

  /** Whether `failAll` was called: the other thread is gone. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  get size(): number {
    return this.waiting.size;
  }
}

/** A log line as it crosses to the main thread. */
export interface LogMessage {
  type: 'log';
  level: LogLevel;
  message: string;
  fields?: LogFields;
}

/** A logger for a worker thread: each line is posted to the main thread, which logs it. */
export function workerLogger(send: (message: LogMessage) => void): Logger {
  const emit = (level: LogLevel) => (message: string, fields?: LogFields): void =>
    send(fields ? { type: 'log', level, message, fields } : { type: 'log', level, message });
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** On the main thread: a worker's log line, through the main logger. */
export function relayLog(log: Logger, message: LogMessage): void {
  log[message.level](message.message, message.fields);
}
