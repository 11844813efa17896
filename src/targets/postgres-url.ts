import { UsageError } from '../errors.js';
import { percentDecoded } from '../url-text.js';

/**
 * A `postgres://user[:password]@host[:port]/db?schema=name` target spec, read without loading
 * the driver (spec.ts parses every `--target`, also for commands that never connect).
 *
 * The connection string goes to the driver as given: it reads `sslmode`, `application_name`
 * and the like itself, and ignores `schema`, which is ours. The password may sit in it, so
 * everything shown to people (descriptions, errors, lock holders) is built without it.
 */

export interface PostgresLocation {
  /** The connection string as given, password included: for the driver only. */
  url: string;
  /** The schema holding the tables (`public` unless `?schema=` says otherwise). */
  schema: string;
  /** The spec without its password, for messages. */
  description: string;
  /** The password as written in the string and decoded, so it can be scrubbed from messages. */
  secrets: string[];
}

export const DEFAULT_SCHEMA = 'public';

/** PostgreSQL keeps the first 63 bytes of an identifier; a longer schema name would silently be another one. */
export const MAX_IDENTIFIER_BYTES = 63;

export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

export function parsePostgresUrl(text: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The text may hold a password: it is not repeated.
    throw new UsageError('the PostgreSQL target is not a valid URL; use postgres://USER@HOST:PORT/DB?schema=NAME');
  }
  const schema = url.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (schema === '' || schema.includes('\0')) throw new UsageError('?schema= must name a schema (not empty, no NUL character)');
  if (Buffer.byteLength(schema) > MAX_IDENTIFIER_BYTES) {
    throw new UsageError(`?schema= is longer than ${MAX_IDENTIFIER_BYTES} bytes, which PostgreSQL would cut short: ${JSON.stringify(schema)}`);
  }
  const secrets = new Set<string>();
  for (const raw of [url.password, url.searchParams.get('password') ?? '']) {
    if (raw === '') continue;
    secrets.add(raw);
    secrets.add(percentDecoded(raw));
    secrets.add(encodeURIComponent(percentDecoded(raw)));
  }
  const user = url.username === '' ? '' : `${url.username}@`;
  const shownSchema = url.searchParams.has('schema') ? `?schema=${encodeURIComponent(schema)}` : '';
  return {
    url: text,
    schema,
    description: `${url.protocol}//${user}${url.host}${url.pathname}${shownSchema}`,
    secrets: [...secrets].filter((s) => s !== ''),
  };
}

/** Replaces every form of the password in `message`. */
export function scrubSecrets(message: string, secrets: readonly string[]): string {
  let out = message;
  // Longest first: a decoded password may be part of its encoded form.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.replaceAll(secret, '***');
  return out;
}
