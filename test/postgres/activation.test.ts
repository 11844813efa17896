import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordMessage } from '../../src/protocol/messages.js';
import { SchemaRegistry, type StreamSchema } from '../../src/protocol/schema.js';
import { openPostgresTarget, type PostgresTarget } from '../../src/targets/postgres.js';
import { parsePostgresUrl } from '../../src/targets/postgres-url.js';
import { postgresAvailable, quote, testSchema, type TestSchema } from '../helpers/postgres.js';

/**
 * ACTIVATE_VERSION with the bounds of a reconciling full read: rows the read did not see are
 * retired, except rows changed since the read began (a webhook wrote them), and not at all
 * when they would be more than the allowed share of the table (a partial answer from the
 * source must not wipe it). A record without a table version keeps the row's.
 */

const available = await postgresAvailable('test/postgres/activation.test.ts');

describe.skipIf(!available)('PostgreSQL target: guarded ACTIVATE_VERSION', () => {
  let schema: TestSchema;
  let target: PostgresTarget;
  let stream: StreamSchema;
  const warnings: string[] = [];
  beforeEach(async () => {
    schema = await testSchema();
    warnings.length = 0;
    target = await openPostgresTarget(parsePostgresUrl(schema.url), { stateId: 'guard', warn: (m) => warnings.push(m) });
    stream = new SchemaRegistry().open({
      type: 'SCHEMA',
      stream: 'items',
      schema: { properties: { id: { type: 'integer' }, updated_at: { type: 'string', format: 'date-time' } } },
      key_properties: ['id'],
      bookmark_properties: ['updated_at'],
    });
    target.openStream(stream);
  });
  afterEach(async () => {
    await target.close();
    await schema.drop();
  });

  const write = async (ids: number[], updatedAt: string, version?: number): Promise<void> => {
    for (const id of ids) {
      const message: RecordMessage = { type: 'RECORD', stream: 'items', record: { id, updated_at: updatedAt }, ...(version === undefined ? {} : { version }) };
      target.writeRecord(stream, message);
    }
    await target.commit(undefined);
  };
  const activate = async (version: number, guard?: { maxShare: number; since: string }): Promise<void> => {
    target.activateVersion(stream, version, guard);
    // Queued behind the activation: resolves once it is done.
    await target.commit(undefined);
  };
  const retired = async (): Promise<string[]> =>
    (await schema.query<{ id: string }>(`SELECT id::text FROM ${quote(schema.name)}.items WHERE _sdc_deleted_at IS NOT NULL ORDER BY items.id`)).map((r) => r.id);
  const tableVersions = async (): Promise<string[]> =>
    (await schema.query<{ tv: string }>(`SELECT _sdc_table_version::text AS tv FROM ${quote(schema.name)}.items ORDER BY id`)).map((r) => r.tv);

  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('keeps the table version of a row a record without one updates (a webhook between two full reads)', async () => {
    await write(ten, '2024-01-01T00:00:00Z', 1);
    await write([3], '2024-02-01T00:00:00Z');
    expect(await tableVersions()).toEqual(ten.map(() => '1'));
  });

  it('retires unseen rows, but not one changed since the read began', async () => {
    await write(ten, '2024-01-01T00:00:00Z', 1);
    // During the second full read (started 2024-03-01), a webhook changes row 3 and row 5 is deleted at the source.
    await write([3], '2024-03-01T00:00:05Z');
    await write([1, 2, 4, 6, 7, 8, 9, 10], '2024-01-01T00:00:00Z', 2);
    await activate(2, { maxShare: 0.5, since: '2024-03-01T00:00:00Z' });
    expect(await retired()).toEqual(['5']);
    expect(warnings).toEqual([]);
  });

  it('retires nothing, and says why, when the read missed more than the allowed share', async () => {
    await write(ten, '2024-01-01T00:00:00Z', 1);
    await write([1, 2], '2024-01-01T00:00:00Z', 2);
    await activate(2, { maxShare: 0.5, since: '2024-03-01T00:00:00Z' });
    expect(await retired()).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/stream "items": the full read did not see 8 of 10 rows, more than 50% of the table; nothing is marked deleted/)]);
  });

  it('without a guard retires every row of an older table version', async () => {
    await write(ten, '2024-01-01T00:00:00Z', 1);
    await write([1, 2], '2024-01-01T00:00:00Z', 2);
    await activate(2);
    expect(await retired()).toEqual(['3', '4', '5', '6', '7', '8', '9', '10']);
  });
});
