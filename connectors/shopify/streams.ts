import { defineStream, isRecordPage, type StreamDefinition } from '../../src/connector/contract.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { openRestSession, resolveRestStreams, type ResolveContext } from '../rest/streams.js';
import { readBulk } from './bulk.js';
import { graphqlPath, settingsOf, shopifyDescription } from './description.js';
import { STREAM_SHAPES, type ShopifyStream } from './records.js';

/**
 * The shop's streams: the `rest` engine's paged GraphQL reads, their nodes turned into the
 * connector's records. A read with no bookmark (the first run, --full-refresh) goes through
 * a bulk operation instead, which Shopify runs server-side without cost limits; the run then
 * keeps the greatest `updated_at` it read as the bookmark, as a paged read would, and later
 * runs page from there. With --record or --replay every read pages: the bulk result is
 * streamed from a storage host, outside the recorded exchanges.
 */

const DELETIONS = 'the Admin API lists no deleted objects: deletions arrive through webhooks (sync listen shopify), which mark the row deleted';
const RECONCILED =
  `${DELETIONS}; a full read (the first run, --full-refresh) also marks rows it did not see as deleted, at most 10% of the table at once`;

export async function resolveShopifyStreams(config: JsonObject, ctx: ResolveContext): Promise<StreamDefinition<JsonObject>[]> {
  const settings = settingsOf(config);
  const description = shopifyDescription(settings);
  const paged = await resolveRestStreams(description, ctx);
  const session = openRestSession(description, ctx);
  const recorded = ctx.http?.recorder !== undefined || ctx.http?.replayer !== undefined;
  return paged.map((definition) => {
    const stream = definition.name as ShopifyStream;
    const toRecord = STREAM_SHAPES[stream].fromGraphql;
    return defineStream<JsonObject>({
      name: definition.name,
      description: `Shopify ${stream}, incremental by updated_at`,
      schema: definition.schema,
      keyProperties: definition.keyProperties,
      replicationKey: 'updated_at',
      sorted: false,
      // A full read sees every object unless start_date bounds it: then it can tell what is gone.
      deletions: settings.start_date === undefined ? RECONCILED : DELETIONS,
      ...(settings.start_date === undefined ? { reconcileDeletes: { maxShare: 0.1 } } : {}),
      async *read(rc) {
        if (rc.bookmark === undefined && !recorded) {
          const client = session.clientFor(rc.log, rc.signal);
          try {
            yield* readBulk(
              client,
              { stream, path: graphqlPath(settings), apiVersion: settings.api_version, since: settings.start_date },
              { log: rc.log, signal: rc.signal },
            );
          } finally {
            await client.close();
          }
          return;
        }
        for await (const page of definition.read(rc)) {
          yield isRecordPage(page) ? page.map(toRecord) : toRecord(page);
        }
      },
    });
  });
}
