import type { IncrementalRule } from '../../../src/http/incremental.js';
import type { PaginationStyle } from '../../../src/http/paginate.js';
import type { JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';

/** `streams[].pagination`: where the next page is. */

const PAGINATION_KEYS: Record<PaginationStyle['type'], readonly string[]> = {
  none: [],
  cursor: ['cursor_path', 'cursor_param'],
  link_header: [],
  next_url: ['next_url_path'],
  offset: ['offset_param', 'start_offset'],
  page: ['page_param', 'start_page'],
  keyset: ['offset_param'],
  after_last: ['key_path', 'param'],
};
const PAGINATION_COMMON = ['type', 'limit_param', 'page_size', 'has_more_path', 'stop_on_short_page', 'params_in'];

export function parsePagination(
  c: Checker,
  raw: JsonValue | undefined,
  at: string,
  replicationKey: string | undefined,
  incremental: IncrementalRule | undefined,
): PaginationStyle | undefined {
  if (raw === undefined) return { type: 'none' };
  if (!c.object(raw, at)) return undefined;
  const type = c.oneOf(raw['type'], `${at}.type`, Object.keys(PAGINATION_KEYS), true) as PaginationStyle['type'] | undefined;
  if (type === undefined) return undefined;
  c.unknownKeys(raw, at, [...PAGINATION_COMMON, ...PAGINATION_KEYS[type]]);
  const common: Record<string, unknown> = {};
  const limitParam = c.string(raw['limit_param'], `${at}.limit_param`, false);
  const pageSize = c.number(raw['page_size'], `${at}.page_size`, 1);
  if (limitParam !== undefined) common['limitParam'] = limitParam;
  if (pageSize !== undefined) common['pageSize'] = pageSize;
  const hasMore = c.string(raw['has_more_path'], `${at}.has_more_path`, false);
  if (hasMore !== undefined) common['hasMorePath'] = hasMore;
  const short = c.boolean(raw['stop_on_short_page'], `${at}.stop_on_short_page`);
  if (short !== undefined) common['stopOnShortPage'] = short;
  // Keyset paging sends the bound where the incremental rule says, unless told otherwise.
  const paramsIn = c.oneOf(raw['params_in'], `${at}.params_in`, ['query', 'body'], false) ?? (type === 'keyset' ? incremental?.in : undefined);
  if (paramsIn !== undefined) common['paramsIn'] = paramsIn;
  if (limitParam !== undefined && pageSize === undefined) c.problem(`${at}.page_size`, 'required with limit_param');
  let specific: Record<string, unknown> | undefined;
  switch (type) {
    case 'none':
    case 'link_header':
      specific = {};
      break;
    case 'cursor': {
      const cursorPath = c.string(raw['cursor_path'], `${at}.cursor_path`, true);
      const cursorParam = c.string(raw['cursor_param'], `${at}.cursor_param`, true);
      specific = cursorPath === undefined || cursorParam === undefined ? undefined : { cursorPath, cursorParam };
      break;
    }
    case 'next_url': {
      const nextUrlPath = c.string(raw['next_url_path'], `${at}.next_url_path`, true);
      specific = nextUrlPath === undefined ? undefined : { nextUrlPath };
      break;
    }
    case 'offset': {
      const offsetParam = c.string(raw['offset_param'], `${at}.offset_param`, true);
      const start = c.number(raw['start_offset'], `${at}.start_offset`, 0);
      if (pageSize === undefined) c.problem(`${at}.page_size`, 'required for offset pagination');
      specific = offsetParam === undefined ? undefined : { offsetParam, ...(start === undefined ? {} : { startOffset: start }) };
      break;
    }
    case 'keyset': {
      // Pages by the replication key through the incremental parameter.
      const offsetParam = c.string(raw['offset_param'], `${at}.offset_param`, false);
      if (pageSize === undefined) c.problem(`${at}.page_size`, 'required for keyset pagination');
      if (replicationKey === undefined) c.problem(`${at}.type`, 'keyset pagination needs a replication_key on the stream');
      if (incremental?.param === undefined) c.problem(`${at}.type`, 'keyset pagination needs incremental.param, the parameter the API filters on');
      specific =
        replicationKey === undefined || incremental?.param === undefined
          ? undefined
          : { keyPath: replicationKey, param: incremental.param, format: incremental.format, ...(offsetParam === undefined ? {} : { offsetParam }) };
      break;
    }
    case 'after_last': {
      const keyPath = c.string(raw['key_path'], `${at}.key_path`, true);
      const param = c.string(raw['param'], `${at}.param`, true);
      specific = keyPath === undefined || param === undefined ? undefined : { keyPath, param };
      break;
    }
    case 'page': {
      const pageParam = c.string(raw['page_param'], `${at}.page_param`, true);
      const start = c.number(raw['start_page'], `${at}.start_page`, 0);
      specific = pageParam === undefined ? undefined : { pageParam, ...(start === undefined ? {} : { startPage: start }) };
      break;
    }
  }
  if (specific === undefined) return undefined;
  // Assembled from checked parts; the switch above guarantees the variant's fields.
  return { type, ...common, ...specific } as PaginationStyle;
}

