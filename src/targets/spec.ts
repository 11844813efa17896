import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isPostgresUrl, parsePostgresUrl, type PostgresLocation } from './postgres-url.js';
import type { Target, TargetOptions } from './target.js';

/** A parsed `--target` value. */
export type TargetSpec =
  | { kind: 'stdout' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'jsonl'; dir: string }
  | { kind: 'csv'; dir: string }
  | ({ kind: 'postgres' } & PostgresLocation);

export const TARGET_FORMS = ['-', 'sqlite:PATH', 'jsonl:DIR', 'csv:DIR', 'postgres://USER@HOST:PORT/DB?schema=NAME'];

export function parseTargetSpec(text: string): TargetSpec {
  if (text === '-') return { kind: 'stdout' };
  if (isPostgresUrl(text)) return { kind: 'postgres', ...parsePostgresUrl(text) };
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon) : '';
  const rest = colon > 0 ? text.slice(colon + 1) : '';
  if (rest !== '') {
    if (scheme === 'sqlite') return { kind: 'sqlite', path: rest };
    if (scheme === 'jsonl') return { kind: 'jsonl', dir: rest };
    if (scheme === 'csv') return { kind: 'csv', dir: rest };
  }
  throw new UsageError(`unknown target ${JSON.stringify(text)}; use one of: ${TARGET_FORMS.join(', ')}`);
}

export function describeTarget(spec: TargetSpec): string {
  switch (spec.kind) {
    case 'stdout':
      return 'stdout';
    case 'sqlite':
      return `sqlite:${spec.path}`;
    case 'postgres':
      // Never the password.
      return spec.description;
    default:
      return `${spec.kind}:${spec.dir}`;
  }
}

/**
 * Where the run lock for (state id, target) lives: beside the database, or in the folder.
 * Stdout keeps no state, so it needs no lock unless a --state file is shared. PostgreSQL has
 * no file to lock: its run lock is an advisory lock in the database (postgres-lock.ts).
 */
export function lockPathFor(spec: TargetSpec, stateId: string, stateFile: string | undefined): string | undefined {
  const id = stateId.replace(/[^A-Za-z0-9_-]/g, '_');
  if (stateFile !== undefined) return `${resolve(stateFile)}.lock`;
  switch (spec.kind) {
    case 'stdout':
    case 'postgres':
      return undefined;
    case 'sqlite':
      return join(dirname(resolve(spec.path)), `.${basename(spec.path)}.${id}.lock`);
    default:
      return join(resolve(spec.dir), `.sync-${id}.lock`);
  }
}

/** Opens a target; each kind is loaded only when used, so start-up stays fast. */
export async function openTarget(
  spec: TargetSpec,
  options: TargetOptions & {
    stdout: NodeJS.WritableStream;
    /** SQLite and PostgreSQL: write on a worker thread (long loads) or on this one (tests, small jobs). */
    writer?: 'inline' | 'thread';
  },
): Promise<Target> {
  switch (spec.kind) {
    case 'stdout': {
      const { StdoutTarget } = await import('./stdout.js');
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- process.stdout or a test's stream: any writable
      return new StdoutTarget(options.stdout as import('node:stream').Writable);
    }
    case 'sqlite': {
      const { SqliteTarget } = await import('./sqlite.js');
      return new SqliteTarget(spec.path, options);
    }
    case 'jsonl': {
      const { JsonlTarget } = await import('./jsonl.js');
      return new JsonlTarget(spec.dir, options);
    }
    case 'csv': {
      const { CsvTarget } = await import('./csv.js');
      return new CsvTarget(spec.dir, options);
    }
    case 'postgres': {
      const { openPostgresTarget } = await import('./postgres.js');
      return openPostgresTarget(spec, {
        stateId: options.stateId,
        warn: options.warn,
        ...(options.writer ? { writer: options.writer } : {}),
        ...(options.countChanges ? { countChanges: true } : {}),
      });
    }
  }
}
