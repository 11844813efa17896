import { SourceError } from '../../src/errors.js';
import { runExport, type ExportJob, type ExportJobOptions, type ExportOutcome } from '../../src/http/export-job.js';
import { graphqlCheck } from '../../src/http/graphql.js';
import type { HttpClient } from '../../src/http/index.js';
import { quote } from '../../src/http/template.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { bulkQuery, nestedFieldOf } from './queries.js';
import { STREAM_SHAPES, type ShopifyStream } from './records.js';

/**
 * A stream read whole through a Shopify bulk operation: `bulkOperationRunQuery` starts it,
 * `node(id:)` polls it until COMPLETED, and its JSONL result holds one object per line. A
 * nested connection's items (line items, variants) are lines of their own with `__parentId`;
 * grouped output (the default before 2026-01, asked for by `groupObjects` since) puts them
 * right after their parent, so a parent is complete when the next parent's line arrives and
 * the file streams without holding more than one object.
 */

const RUN = (grouped: boolean) =>
  `mutation ($query: String!) { bulkOperationRunQuery(query: $query${grouped ? ', groupObjects: true' : ''}) ` +
  '{ bulkOperation { id status errorCode objectCount url } userErrors { field message } } }';
const POLL = 'query ($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount url } } }';

/** `groupObjects` exists from 2025-10 on (and defaults to false from 2026-01). */
function takesGroupObjects(apiVersion: string): boolean {
  return apiVersion === 'unstable' || apiVersion >= '2025-10';
}

export interface BulkRead {
  stream: ShopifyStream;
  /** The GraphQL endpoint's path. */
  path: string;
  apiVersion: string;
  /** Only objects updated at or after this (the start_date of a first run). */
  since: string | undefined;
}

/** The stream's records from a bulk export, in pages, converted as a paged read converts them. */
export async function* readBulk(client: HttpClient, read: BulkRead, options: ExportJobOptions): AsyncGenerator<JsonObject[]> {
  const job = bulkJob(read);
  const toRecord = STREAM_SHAPES[read.stream].fromGraphql;
  let page: JsonObject[] = [];
  for await (const node of reassemble(runExport(client, job, options), read.stream)) {
    page.push(toRecord(node));
    if (page.length >= 500) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

interface BulkStatus {
  id: string;
  status: string;
  errorCode: string | null;
  objectCount: string | null;
  url: string | null;
}

function bulkJob(read: BulkRead): ExportJob<BulkStatus> {
  const name = `Shopify bulk export of ${read.stream}`;
  const search = read.since === undefined ? undefined : `updated_at:>=${quote(read.since, 'search')}`;
  const ask = async (client: HttpClient, query: string, variables: JsonObject): Promise<JsonValue> => {
    const response = await client.request({
      method: 'POST',
      path: read.path,
      body: { query, variables },
      expectJson: true,
      check: graphqlCheck({ retriableCodes: ['THROTTLED'] }),
    });
    return response.json();
  };
  return {
    name,
    async start(client) {
      const body = await ask(client, RUN(takesGroupObjects(read.apiVersion)), { query: bulkQuery(read.stream, search) });
      const payload = at(body, ['data', 'bulkOperationRunQuery']);
      const errors = isJsonObject(payload) && Array.isArray(payload['userErrors']) ? payload['userErrors'] : [];
      if (errors.length > 0) {
        const words = errors.map((e) => (isJsonObject(e) && typeof e['message'] === 'string' ? e['message'] : JSON.stringify(e))).join('; ');
        throw new SourceError(`${name}: Shopify refused to start it: ${words}`);
      }
      return statusOf(isJsonObject(payload) ? payload['bulkOperation'] : undefined, name);
    },
    async poll(client, last) {
      const body = await ask(client, POLL, { id: last.id });
      return statusOf(at(body, ['data', 'node']), name);
    },
    outcome: outcomeOf,
  };
}

function outcomeOf(s: BulkStatus): ExportOutcome {
  switch (s.status) {
    case 'COMPLETED':
      // No url: the query matched nothing.
      return { state: 'done', url: s.url ?? undefined };
    case 'CREATED':
    case 'RUNNING':
      return { state: 'running', ...(s.objectCount === null ? {} : { detail: `${s.objectCount} objects so far` }) };
    default:
      // FAILED, CANCELING, CANCELED, EXPIRED: no result will come.
      return { state: 'failed', reason: `status ${s.status}${s.errorCode === null ? '' : ` (${s.errorCode})`}` };
  }
}

function statusOf(value: JsonValue | undefined, name: string): BulkStatus {
  if (!isJsonObject(value) || typeof value['id'] !== 'string' || typeof value['status'] !== 'string') {
    throw new SourceError(`${name}: the answer holds no bulk operation (${JSON.stringify(value ?? null).slice(0, 200)})`);
  }
  const text = (key: string): string | null => {
    const v = value[key];
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
  };
  return { id: value['id'], status: value['status'], errorCode: text('errorCode'), objectCount: text('objectCount'), url: text('url') };
}

/**
 * Top-level objects with their nested connection's lines put back under them, as the paged
 * query nests them (`lineItems: { nodes: [...] }`), so one conversion serves both reads.
 */
export async function* reassemble(lines: AsyncIterable<JsonValue>, stream: ShopifyStream): AsyncGenerator<JsonObject> {
  const field = nestedFieldOf(stream);
  let current: JsonObject | undefined;
  let children: JsonObject[] = [];
  const finish = (): JsonObject | undefined => {
    if (current === undefined) return undefined;
    return field === undefined ? current : { ...current, [field]: { nodes: children } };
  };
  let line = 0;
  for await (const value of lines) {
    line++;
    if (!isJsonObject(value)) throw new SourceError(`Shopify bulk export of ${stream}: line ${line} is not an object`);
    const parent = value['__parentId'];
    if (parent === undefined) {
      const done = finish();
      if (done !== undefined) yield done;
      current = value;
      children = [];
      continue;
    }
    if (current === undefined || parent !== current['id']) {
      throw new SourceError(
        `Shopify bulk export of ${stream}: line ${line} belongs to ${JSON.stringify(parent)}, which is not the object before it; the export is not grouped by parent`,
      );
    }
    const { __parentId: _parent, ...child } = value;
    children.push(child);
  }
  const last = finish();
  if (last !== undefined) yield last;
}

function at(value: JsonValue, path: readonly string[]): JsonValue | undefined {
  let here: JsonValue | undefined = value;
  for (const key of path) here = isJsonObject(here) ? here[key] : undefined;
  return here;
}
