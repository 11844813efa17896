import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';
import { INCREMENTAL_COUNTS, incrementalCases } from '../helpers/incremental-cases.js';
import { postgresAvailable, quote, testSchema, type TestSchema } from '../helpers/postgres.js';

/**
 * The incremental property on PostgreSQL, as a user runs it: `sync run sample` at t1, then
 * again at t2, leaves the schema with exactly the rows and the bookmarks of one full run at t2
 * into another schema. The cases are the SQLite test's (test/helpers/incremental-cases.ts).
 */

const available = await postgresAvailable('test/postgres/incremental.test.ts');

/** Written by `sync run` with the run that wrote the row: it differs between the two ways by design. */
const RUN_VERSION = '_sync_run_version';

describe.skipIf(!available)('run at t1, then incremental at t2 == one full run at t2 (PostgreSQL)', () => {
  let incremental: TestSchema;
  let full: TestSchema;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    incremental = await testSchema('sync_test_inc');
    full = await testSchema('sync_test_full');
    tmp = tempDir('sync-postgres-incremental-');
  });
  afterEach(async () => {
    tmp.cleanup();
    await incremental.drop();
    await full.drop();
  });

  const run = async (schema: TestSchema, seed: number, now: string): Promise<void> => {
    const env = { SYNC_SAMPLE_SEED: String(seed), SYNC_SAMPLE_CUSTOMERS: String(INCREMENTAL_COUNTS.customers), SYNC_SAMPLE_ORDERS: String(INCREMENTAL_COUNTS.orders), SYNC_SAMPLE_NOW: now };
    const result = await runSync(['run', 'sample', '--target', schema.url, '--quiet'], { cwd: tmp.dir, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
  };

  /** The table's columns, in order, but the run's own mark. */
  const columns = async (schema: TestSchema, table: string): Promise<string[]> =>
    (
      await schema.query<{ name: string }>(
        'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [schema.name, table],
      )
    )
      .map((c) => c.name)
      .filter((c) => c !== RUN_VERSION);

  /** Rows of `table` in one schema that the other lacks, counting duplicates (EXCEPT ALL). */
  const missingFrom = async (from: TestSchema, other: TestSchema, table: string, list: string): Promise<number> => {
    const [row] = await from.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM (SELECT ${list} FROM ${quote(from.name)}.${quote(table)} EXCEPT ALL SELECT ${list} FROM ${quote(other.name)}.${quote(table)}) AS d`,
    );
    return Number(row?.n);
  };

  const storedState = async (schema: TestSchema): Promise<{ currently_syncing: unknown; bookmarks: unknown }> => {
    const [row] = await schema.query<{ value: string }>(`SELECT value FROM ${quote(schema.name)}._sync_state WHERE id = 'sample'`);
    return JSON.parse(row?.value ?? 'null') as { currently_syncing: unknown; bookmarks: unknown };
  };

  for (const { seed, t1, t2, title } of incrementalCases()) {
    it(title, async () => {
      await run(incremental, seed, t1);
      expect((await storedState(incremental)).currently_syncing).toBeNull();
      await run(incremental, seed, t2);
      await run(full, seed, t2);
      for (const table of ['customers', 'orders']) {
        const names = await columns(incremental, table);
        expect(await columns(full, table), table).toEqual(names);
        const list = names.map(quote).join(', ');
        expect(await missingFrom(incremental, full, table, list), `${table}: rows only the incremental runs left`).toBe(0);
        expect(await missingFrom(full, incremental, table, list), `${table}: rows only the full run left`).toBe(0);
      }
      const [counted] = await full.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quote(full.name)}.orders`);
      expect(Number(counted?.n)).toBeGreaterThan(0);
      const [a, b] = [await storedState(incremental), await storedState(full)];
      expect(a.currently_syncing).toBeNull();
      expect(a.bookmarks).toEqual(b.bookmarks);
    });
  }
});
