import { MIN_SECRET_LENGTH, scrubSecrets } from '../http/redact.js';
import { createLogger, type Logger, type LogLevel } from '../log.js';

/** What a command needs from the process, handed in so tests and the entry point agree. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Secret values known so far; every message printed is scrubbed of them, in every encoding
   * a server may echo them in (`http/redact.ts#scrubSecrets`).
   */
  secrets: string[];
  /** Aborted on the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  interruptedBy: () => 'SIGINT' | 'SIGTERM' | undefined;
}

export interface OutputOptions {
  quiet?: boolean;
  logFormat?: string;
  debug?: boolean;
}

const SCRUBBED = '********';

/**
 * `text` without the secrets. Applied to whole lines as written, after a JSON log line was
 * encoded: the patterns cover the JSON-escaped forms that encoding produces.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  return scrubSecrets(text, secrets, SCRUBBED);
}

/** Adds a secret learnt at run time (an OAuth access token) to those every line is scrubbed of. */
export function addSecret(io: CliIo, secret: string): void {
  if (secret.length >= MIN_SECRET_LENGTH && !io.secrets.includes(secret)) io.secrets.push(secret);
}

/** Logger on stderr: warnings and errors always, information unless --quiet, debug with --debug. */
export function cliLogger(io: CliIo, options: OutputOptions, beforeWrite?: () => void): Logger {
  const format = options.logFormat === 'json' ? 'json' : 'text';
  const level: LogLevel = options.debug ? 'debug' : options.quiet ? 'warn' : 'info';
  return createLogger({
    format,
    level,
    write: (line) => io.stderr.write(scrub(line, io.secrets)),
    redact: (secret) => addSecret(io, secret),
    ...(beforeWrite ? { beforeWrite } : {}),
  });
}

/**
 * How wide lines on stderr may be, when a person reads them there: the terminal's width for
 * text logs on a TTY, undefined for files, pipes and JSON logs, whose lines are never broken.
 */
export function terminalWidth(io: CliIo, options: OutputOptions): number | undefined {
  return io.stderr.isTTY && options.logFormat !== 'json' ? io.stderr.columns : undefined;
}
