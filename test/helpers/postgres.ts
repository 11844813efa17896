import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A real PostgreSQL for the PostgreSQL target's tests. The server is found at
 * SYNC_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test). Without it the
 * test files are skipped with one line saying so; with SYNC_TEST_POSTGRES=required (CI) an
 * unreachable server fails them instead, so CI never passes by skipping.
 *
 * Each test gets a schema of its own with a unique name, dropped afterwards.
 */

export const POSTGRES_URL = process.env['SYNC_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRED = process.env['SYNC_TEST_POSTGRES'] === 'required';

/** Whether the server answers; logs the one line that explains a skip. Throws when it is required. */
export async function postgresAvailable(file: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    const reason = (err as Error).message;
    if (REQUIRED) throw new Error(`SYNC_TEST_POSTGRES=required, but PostgreSQL at ${POSTGRES_URL} is unreachable: ${reason}`, { cause: err });
    console.warn(`${file}: skipped, no PostgreSQL at ${POSTGRES_URL} (${reason}); set SYNC_TEST_POSTGRES_URL to run it`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestSchema {
  name: string;
  /** The target spec for this schema: `postgres://…?schema=<name>`. */
  url: string;
  /** Runs one statement on a connection of the test's own. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** The rows of a table of this schema, ordered by `orderBy`. */
  rows(table: string, orderBy?: string): Promise<Array<Record<string, unknown>>>;
  drop(): Promise<void>;
}

/** A new, empty schema name (created by the target on first use). */
export async function testSchema(prefix = 'sync_test'): Promise<TestSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => undefined);
  await client.connect();
  // numeric and int8 as their exact text, timestamps as their text: nothing rounded on the way back.
  client.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);
  client.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => v);
  await client.query(`SET TIME ZONE 'UTC'`);
  const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> => (await client.query<R>(sql, params)).rows;
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', name);
  return {
    name,
    url: url.href,
    query,
    rows: (table, orderBy = '1') => query(`SELECT * FROM ${quote(name)}.${quote(table)} ORDER BY ${orderBy}`),
    async drop() {
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${quote(name)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
