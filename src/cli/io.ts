import { createLogger, type Logger, type LogLevel } from '../log.js';

/** What a command needs from the process, handed in so tests and the entry point agree. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Secret values known so far; every message printed is scrubbed of them. */
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

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('********');
  return out;
}

/** Logger on stderr: warnings and errors always, information unless --quiet, debug with --debug. */
export function cliLogger(io: CliIo, options: OutputOptions, beforeWrite?: () => void): Logger {
  const format = options.logFormat === 'json' ? 'json' : 'text';
  const level: LogLevel = options.debug ? 'debug' : options.quiet ? 'warn' : 'info';
  return createLogger({
    format,
    level,
    write: (line) => io.stderr.write(scrub(line, io.secrets)),
    ...(beforeWrite ? { beforeWrite } : {}),
  });
}
