/** Logging to stderr only: stdout belongs to Singer messages. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /**
   * A secret learnt while running, such as an OAuth access token: scrubbed from every line
   * written from now on (for the CLI's logger, also from the final error report). Config
   * secrets are known before anything runs; these are not, so whoever learns one says so.
   */
  redact?(secret: string): void;
  /**
   * False when debug lines are dropped: a caller on a hot path (a line per HTTP request) skips
   * building one. Undefined: unknown, so the line is built.
   */
  readonly debugging?: boolean;
}

export interface LoggerOptions {
  format: 'text' | 'json';
  level: LogLevel;
  write: (line: string) => void;
  /** Called before a text line is written, e.g. to clear progress bars. */
  beforeWrite?: () => void;
  /** Where `Logger.redact` reports secrets learnt at run time; the writer scrubs them. */
  redact?: (secret: string) => void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: LoggerOptions): Logger {
  const min = RANK[options.level];
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    options.beforeWrite?.();
    if (options.format === 'json') {
      options.write(jsonLogLine(level, message, fields));
      return;
    }
    const prefix = level === 'info' ? '' : `${level === 'warn' ? 'warning' : level}: `;
    const extra = fields ? formatFields(fields) : '';
    options.write(`${prefix}${message}${extra}\n`);
  };
  const logger: Logger = {
    debugging: min <= RANK.debug,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
  if (options.redact) logger.redact = options.redact;
  return logger;
}

/**
 * One JSON log line: `time`, `level` and `msg` first, then the fields. Shared by the logger
 * and the CLI's error report, so a reader of `--log-format json` sees a single shape.
 */
export function jsonLogLine(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }) + '\n';
}

/** A logger that drops everything, for library use and tests. */
export const silentLogger: Logger = { debugging: false, debug() {}, info() {}, warn() {}, error() {} };

function formatFields(fields: LogFields): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`${k}=${String(v)}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}
