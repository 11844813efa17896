import type pg from 'pg';
import { TargetError } from '../errors.js';
import { parseJson, type JsonValue } from '../protocol/json.js';
import { qualified } from './postgres-names.js';

/**
 * The state a PostgreSQL target keeps per state id, in `_sync_state` of its schema. It is
 * written by the same transaction as the records it covers, so it is never ahead of them.
 * The value is JSON text (not jsonb), so its numbers and key order stay exactly as received;
 * it travels as that text between the target and its writer thread for the same reason.
 */

export const STATE_TABLE = '_sync_state';

export function createStateTable(schema: string): string {
  return `CREATE TABLE ${qualified(schema, STATE_TABLE)} (id text PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL)`;
}

export async function readStateText(client: pg.Client, schema: string, id: string): Promise<string | undefined> {
  const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${qualified(schema, STATE_TABLE)} WHERE id = $1`, [id]);
  return rows[0]?.value;
}

/** Replaces the state of `id` with this JSON text, or removes it when `text` is undefined. */
export async function writeStateText(client: pg.Client, schema: string, id: string, text: string | undefined): Promise<void> {
  const table = qualified(schema, STATE_TABLE);
  if (text === undefined) {
    await client.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
    return;
  }
  await client.query(
    `INSERT INTO ${table} (id, value, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    [id, text],
  );
}

export function parseState(text: string, id: string, where: string): JsonValue {
  try {
    return parseJson(text).value;
  } catch (err) {
    throw new TargetError(`the state of ${id} in ${where} is not valid JSON: ${(err as Error).message}`);
  }
}
