import { UsageError } from '../../src/errors.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { listSchema, MEMBER_FIELDS, memberSchema } from './schemas.js';

/**
 * Mailchimp as data on the `rest` engine: its Marketing API (3.0) described once.
 *
 * - The data centre is the API key's suffix (`…-us6` → `https://us6.api.mailchimp.com/3.0`);
 *   `base_url` replaces that URL. HTTP Basic with any user name and the key as password.
 * - `lists`: every audience (or those of `list_ids`), read in full each run (a handful).
 * - `list_members`: per audience, keyed by `list_id` + `id`, incremental by `last_changed`
 *   through `since_last_changed`. Pages go newest first: a member changed during the read moves
 *   to the front, already passed, so offset paging never skips one (it is read next run, its
 *   time being after the run's start). Archived members are listed only when asked for
 *   (`status=archived`): a second listing, whose members are marked deleted.
 */

export interface MailchimpSettings {
  api_key: string;
  base_url?: string;
  list_ids?: string[];
  start_date?: string;
  webhook_secret?: string;
}

const PAGE = 1000;

/** The settings, read from a config already checked against the connector's spec. */
export function settingsOf(config: JsonObject): MailchimpSettings {
  const text = (key: string): string | undefined => (typeof config[key] === 'string' ? config[key] : undefined);
  const ids = config['list_ids'];
  return {
    api_key: text('api_key') ?? '',
    ...(text('base_url') === undefined ? {} : { base_url: text('base_url') as string }),
    ...(text('start_date') === undefined ? {} : { start_date: text('start_date') as string }),
    ...(Array.isArray(ids) ? { list_ids: ids.filter((x): x is string => typeof x === 'string') } : {}),
  };
}

/** The API's root URL: `base_url`, else the key's data centre. */
export function apiRoot(settings: MailchimpSettings): string {
  if (settings.base_url !== undefined && settings.base_url !== '') return settings.base_url.replace(/\/+$/, '');
  const dc = /-([a-z]+[0-9]+)$/.exec(settings.api_key)?.[1];
  if (dc === undefined) {
    throw new UsageError('api_key: a Mailchimp API key ends with its data centre, e.g. "…-us6"; set base_url when it does not');
  }
  return `https://${dc}.api.mailchimp.com/3.0`;
}

/** The `rest` description of the account: auth, the two streams. */
export function mailchimpDescription(settings: MailchimpSettings): JsonObject {
  const lists: JsonObject = {
    name: 'lists',
    description: 'Audiences (lists) of the account',
    path: '/lists',
    records_path: 'lists',
    primary_key: 'id',
    params: { fields: `lists.${Object.keys(listSchema['properties'] as JsonObject).join(',lists.')},total_items` },
    pagination: { type: 'offset', offset_param: 'offset', limit_param: 'count', page_size: PAGE },
    schema: listSchema,
    ...(settings.list_ids !== undefined && settings.list_ids.length > 0 ? { keep_when: { path: 'id', in: settings.list_ids } } : {}),
  };
  const members: JsonObject = {
    name: 'list_members',
    description: 'Members (contacts) of each audience; archived members are marked deleted',
    path: '/lists/{parent}/members',
    records_path: 'members',
    primary_key: ['list_id', 'id'],
    replication_key: 'last_changed',
    parent: { stream: 'lists', key: 'id', as: 'list_id' },
    params: { sort_field: 'last_changed', sort_dir: 'DESC', fields: `members.${MEMBER_FIELDS.join(',members.')},total_items` },
    variants: [{ status: 'archived' }],
    incremental: { param: 'since_last_changed', format: 'iso8601', lookback_minutes: 1 },
    pagination: { type: 'offset', offset_param: 'offset', limit_param: 'count', page_size: PAGE },
    deleted_when: { path: 'status', equals: 'archived' },
    schema: memberSchema,
  };
  return {
    base_url: apiRoot(settings),
    auth: { type: 'basic' },
    username: 'sync',
    password: settings.api_key,
    ...(settings.start_date === undefined ? {} : { start_date: settings.start_date }),
    // Mailchimp allows 10 connections at once; one run uses far fewer, but stay polite.
    rate_limit: { max_concurrent: 4 },
    streams: [lists, members],
  };
}
