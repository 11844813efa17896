import type pg from 'pg';
import { TargetError } from '../errors.js';
import { parseJson, stringifyJson, type JsonValue } from '../protocol/json.js';
import { qualified } from './postgres-names.js';

/**
 * The state a PostgreSQL target keeps per state id, in `_sync_state` of its schema. It is
 * written by the same transaction as the records it covers, so it is never ahead of them.
 * The value is JSON text (not jsonb), so its numbers and key order stay exactly as received.
 */

export const STATE_TABLE = '_sync_state';

export function createStateTable(schema: string): string {
  return `CREATE TABLE ${qualified(schema, STATE_TABLE)} (id text PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL)`;
}

export async function readStateRow(client: pg.Client, schema: string, id: string): Promise<JsonValue | undefined> {
  const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${qualified(schema, STATE_TABLE)} WHERE id = $1`, [id]);
  const text = rows[0]?.value;
  if (text === undefined) return undefined;
  try {
    return parseJson(text).value;
  } catch (err) {
    throw new TargetError(`the state of ${id} in ${STATE_TABLE} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Replaces the state of `id`, or removes it when `value` is undefined. */
export async function writeStateRow(client: pg.Client, schema: string, id: string, value: JsonValue | undefined): Promise<void> {
  const table = qualified(schema, STATE_TABLE);
  if (value === undefined) {
    await client.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
    return;
  }
  await client.query(
    `INSERT INTO ${table} (id, value, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    [id, stringifyJson(value)],
  );
}
