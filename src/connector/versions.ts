import { compareInstants, formatInstantMs, parseInstant, parseInstantParts } from '../protocol/instant.js';
import { isJsonObject, LosslessNumber, type JsonObject, type JsonValue } from '../protocol/json.js';
import { columnKind, type ColumnKind } from '../protocol/schema.js';
import type { WebhookEvent } from './contract.js';

export const DELETED_AT = '_sdc_deleted_at';

/** The schema of one property of a stream (where the version rule reads the key's type). */
export function propertySchema(schema: JsonObject, name: string): JsonValue | undefined {
  const properties = schema['properties'];
  return isJsonObject(properties) && Object.hasOwn(properties, name) ? properties[name] : undefined;
}

/** An event time as a source gives it (RFC 3339 text, or an epoch number); undefined when it is neither. */
export function eventTime(value: JsonValue | undefined): string | number | undefined {
  if (typeof value === 'string' && value !== '') return value;
  const n = numberOf(value);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/**
 * The version rule, for every connector. A keyed target keeps the newest version of a row
 * (`_sync_version`, from the replication key), and batch reads and webhooks may arrive in any
 * order, so a webhook record must carry the version a batch read of the same state of the
 * object would carry:
 *
 * 1. The object's own replication-key value (e.g. `updated_at`), when it has one, is the
 *    version, as in a batch read. A later event time does not replace it: it would outrank
 *    the batch copy of a change made between the update and the event.
 * 2. Otherwise the version the payload gives beside the object (`event.version`, the rest
 *    description's `version_path`), else the event time (`event.time`, `time_path`).
 * 3. A deletion happened at the event time: `_sdc_deleted_at` is the event time (else the
 *    version; the receive time only when the event gives neither), and the version is raised
 *    to it when lower, so an older update arriving later, or a batch read from before the
 *    deletion, cannot revive the row.
 *
 * Values are written in the replication key's form: an epoch number (seconds; milliseconds
 * when beyond 1e11, which as seconds would be the year 5138) becomes RFC 3339 UTC unless the
 * key is a number column; an instant text becomes epoch seconds (milliseconds when the
 * object's own value is) for a number column. `_sdc_deleted_at` is always RFC 3339.
 */
export function withVersion(event: WebhookEvent, replicationKey: string | undefined, receivedAt: string, keyProperty?: JsonValue): JsonObject {
  const record: JsonObject = { ...event.record };
  const own = replicationKey === undefined ? undefined : record[replicationKey];
  const form = versionForm(columnKind(keyProperty), own);
  if (replicationKey !== undefined && isAbsent(own)) {
    const given = event.version ?? event.time;
    if (given !== undefined) record[replicationKey] = inForm(given, form, own);
  }
  if (event.deleted) {
    const stamped = record[DELETED_AT];
    const when = event.time ?? event.version;
    const deletedAt = typeof stamped === 'string' && stamped !== '' ? stamped : when === undefined ? receivedAt : instantText(when);
    record[DELETED_AT] = deletedAt;
    if (replicationKey !== undefined) {
      const raised = inForm(deletedAt, form, own);
      const current = record[replicationKey];
      if (isAbsent(current) || isEarlier(current, raised)) record[replicationKey] = raised;
    }
  }
  return record;
}

type VersionForm = 'text' | 'number';

/** Number columns keep numbers; anything else (date-time, text, untyped) gets instants as text, unless the object's own value is a number. */
function versionForm(kind: ColumnKind, own: JsonValue | undefined): VersionForm {
  if (kind === 'integer' || kind === 'number') return 'number';
  if (kind === 'any' && (typeof own === 'number' || own instanceof LosslessNumber)) return 'number';
  return 'text';
}

const MS_THRESHOLD = 1e11;

function inForm(value: string | number, form: VersionForm, own: JsonValue | undefined): JsonValue {
  if (form === 'text') return instantText(value);
  if (typeof value === 'number') return value;
  const micros = parseInstant(value);
  if (micros === undefined) return value;
  const ownNumber = typeof own === 'number' ? own : own instanceof LosslessNumber ? Number(own.text) : undefined;
  const inMs = ownNumber !== undefined && Math.abs(ownNumber) >= MS_THRESHOLD;
  return inMs ? Math.floor(micros / 1_000) : Math.floor(micros / 1_000_000);
}

/** An epoch number as RFC 3339 UTC (seconds, or milliseconds when clearly so); text as it is. */
function instantText(value: string | number): string {
  if (typeof value === 'string') return value;
  return epochText(value) ?? String(value);
}

/**
 * An epoch number (seconds; milliseconds when beyond 1e11, which as seconds would be the year
 * 5138) as RFC 3339 UTC, written as APIs write times, so a batch read of the same time gives
 * the same text; undefined when it is no usable instant.
 */
export function epochText(value: number): string | undefined {
  const micros = Math.round(Math.abs(value) >= MS_THRESHOLD ? value * 1_000 : value * 1_000_000);
  return Number.isSafeInteger(micros) ? formatInstantMs(micros) : undefined;
}

function isAbsent(value: JsonValue | undefined): boolean {
  return value === undefined || value === null;
}

/** a < b, for two instants (as text) or two numbers; values that cannot be compared are not earlier. */
function isEarlier(a: JsonValue | undefined, b: JsonValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = parseInstantParts(a);
    const y = parseInstantParts(b);
    return x !== undefined && y !== undefined && compareInstants(x, y) < 0;
  }
  const x = numberOf(a);
  const y = numberOf(b);
  return x !== undefined && y !== undefined && x < y;
}

/** A number, or an exact number's value as a double (undefined when it has none). */
function numberOf(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof LosslessNumber) {
    const n = Number(value.text);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
