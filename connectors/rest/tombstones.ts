import { defineStream, versionKeyOf, type StreamContext, type StreamDefinition } from '../../src/connector/contract.js';
import { DELETED_AT, eventTime, propertySchema, withVersion } from '../../src/connector/versions.js';
import { SourceError } from '../../src/errors.js';
import { valueAt } from '../../src/http/paginate.js';
import { isJsonObject, type JsonObject } from '../../src/protocol/json.js';
import type { RestStream, RestTombstones } from './description/index.js';

/**
 * A tombstone listing (`tombstones_for`): an endpoint that lists what was deleted (`{id,
 * deleted_at}`) rather than the objects. Its records go to the stream it names, as partial
 * records that carry the key, `_sdc_deleted_at` and the version raised to the deletion time,
 * so the row keeps its last known values and no older copy revives it. The listing keeps a
 * bookmark of its own, on the deletion time.
 */
export function tombstoneStream(
  stream: RestStream,
  target: StreamDefinition<JsonObject>,
  read: (ctx: StreamContext<JsonObject>) => AsyncIterable<JsonObject[]>,
): StreamDefinition<JsonObject> {
  const rule = stream.tombstonesFor as RestTombstones;
  const timeKey = stream.replicationKey;
  const versionKey = versionKeyOf(target);
  const versionProperty = versionKey === undefined ? undefined : propertySchema(target.schema, versionKey);
  return defineStream<JsonObject>({
    name: stream.name,
    ...(stream.description === undefined ? {} : { description: stream.description }),
    schema: target.schema,
    keyProperties: target.keyProperties,
    // Its bookmark follows the deletion time, whatever the listing calls it.
    ...(timeKey === undefined ? {} : { replicationKey: DELETED_AT }),
    sorted: stream.sorted,
    deletions: `its records mark rows of ${target.name} deleted (_sdc_deleted_at, the deletion time${timeKey === undefined ? ': the read\'s start' : ` from ${timeKey}`})`,
    recordsInto: {
      stream: target.name,
      schema: target.schema,
      keyProperties: target.keyProperties,
      ...(versionKey === undefined ? {} : { replicationKey: versionKey }),
    },
    async *read(ctx) {
      const fallback = ctx.startedAt.toISOString();
      for await (const page of read(ctx)) {
        yield page.map((tombstone, i) => {
          const record: JsonObject = {};
          for (const key of target.keyProperties) {
            const value = valueAt(tombstone, rule.keys[key] ?? key);
            if (value === undefined || value === null || isJsonObject(value)) {
              throw new SourceError(`stream ${stream.name}: tombstone ${i + 1} of a page has no ${rule.keys[key] ?? key} to find the ${target.name} row by`);
            }
            record[key] = value;
          }
          const time = timeKey === undefined ? undefined : eventTime(tombstone[timeKey]);
          return withVersion({ stream: target.name, record, deleted: true, time: time ?? fallback }, versionKey, fallback, versionProperty);
        });
      }
    },
  });
}
