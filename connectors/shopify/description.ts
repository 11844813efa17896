import { UsageError } from '../../src/errors.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { pagedQuery, SELECTIONS } from './queries.js';
import type { ShopifyStream } from './records.js';
import { SCHEMAS } from './schemas.js';

/**
 * Shopify's GraphQL Admin API as data on the `rest` engine: one POST endpoint
 * (`{base_url}/admin/api/{api_version}/graphql.json`), the access token in
 * `X-Shopify-Access-Token`, and per stream a connection paged by cursor in the variables,
 * filtered by the search string `updated_at:>='…'` and sorted by UPDATED_AT. Errors and
 * THROTTLED answers come with 200; the engine's GraphQL check and cost bucket handle them.
 */

export interface ShopifySettings {
  shop: string;
  access_token: string;
  api_version: string;
  client_secret?: string;
  start_date?: string;
  base_url?: string;
}

export const DEFAULT_API_VERSION = '2026-04';
export const STREAMS: readonly ShopifyStream[] = ['orders', 'customers', 'products'];

/** The settings, read from a config already checked against the connector's spec. */
export function settingsOf(config: JsonObject): ShopifySettings {
  const text = (key: string): string | undefined => (typeof config[key] === 'string' && config[key] !== '' ? config[key] : undefined);
  const optional = (key: 'client_secret' | 'start_date' | 'base_url') => (text(key) === undefined ? {} : { [key]: text(key) as string });
  return {
    shop: text('shop') ?? '',
    access_token: text('access_token') ?? '',
    api_version: text('api_version') ?? DEFAULT_API_VERSION,
    ...optional('client_secret'),
    ...optional('start_date'),
    ...optional('base_url'),
  };
}

/** `https://{shop}`, or `base_url` when set (a proxy, a test server). */
export function shopRoot(settings: ShopifySettings): string {
  if (settings.base_url !== undefined) return settings.base_url.replace(/\/+$/, '');
  const shop = settings.shop.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/i.test(shop)) {
    throw new UsageError(`shop: the shop's own domain, e.g. "acme.myshopify.com" (got ${JSON.stringify(settings.shop)}); set base_url for anything else`);
  }
  return `https://${shop}`;
}

/** The GraphQL endpoint's path under the root. */
export function graphqlPath(settings: ShopifySettings): string {
  if (!/^(\d{4}-\d{2}|unstable)$/.test(settings.api_version)) {
    throw new UsageError(`api_version: a Shopify API version such as "${DEFAULT_API_VERSION}" (got ${JSON.stringify(settings.api_version)})`);
  }
  return `/admin/api/${settings.api_version}/graphql.json`;
}

/**
 * The `rest` description of the shop. Records come back as GraphQL nodes (camelCase, gids);
 * streams.ts turns them into the connector's records, so the description's replication key is
 * the node's `updatedAt`.
 */
export function shopifyDescription(settings: ShopifySettings): JsonObject {
  const path = graphqlPath(settings);
  const stream = (name: ShopifyStream): JsonObject => ({
    name,
    path,
    graphql: { query: pagedQuery(name), variables: { first: SELECTIONS[name].pageSize, query: '[[updated_at:>={bookmark}]]' } },
    records_path: `data.${name}.nodes`,
    primary_key: 'id',
    replication_key: 'updatedAt',
    // A bulk export (the first run) gives no order; the stream's bookmark moves when it completes.
    sorted: false,
    incremental: { quoting: 'search' },
    pagination: {
      type: 'cursor',
      cursor_path: `data.${name}.pageInfo.endCursor`,
      cursor_param: 'variables.after',
      has_more_path: `data.${name}.pageInfo.hasNextPage`,
      params_in: 'body',
    },
    schema: SCHEMAS[name],
  });
  return {
    base_url: shopRoot(settings),
    // An api_key header: the engine then treats the token as a secret in every log and error.
    auth: { type: 'api_key', in: 'header', name: 'X-Shopify-Access-Token' },
    api_key: settings.access_token,
    ...(settings.start_date === undefined ? {} : { start_date: settings.start_date }),
    streams: STREAMS.map(stream),
  };
}
