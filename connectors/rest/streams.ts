import { readFileSync } from 'node:fs';
import { defineStream, eachRecord, type StreamContext, type StreamDefinition } from '../../src/connector/contract.js';
import { SourceError, UsageError } from '../../src/errors.js';
import {
  apiKeyAuth,
  basicAuth,
  bearerAuth,
  createHttpClient,
  defaultSleep,
  oauth2ClientCredentials,
  oauth2RefreshToken,
  persistToConfigFile,
  RequestBudget,
  type AuthProvider,
  type BudgetOptions,
  type HttpClient,
  type HttpClientOptions,
  type HttpRequest,
} from '../../src/http/index.js';
import { errorRulesCheck } from '../../src/http/error-rules.js';
import { CostBucket, graphqlCheck } from '../../src/http/graphql.js';
import { atOrAfter, filtersClientSide, formatBound, lowerBound, withBound } from '../../src/http/incremental.js';
import { fillJson, fillText, TemplateError, type Quoting, type TemplateValues } from '../../src/http/template.js';
import { firstPage, paginate, recordsAt, valueAt } from '../../src/http/paginate.js';
import type { Logger } from '../../src/log.js';
import { isJsonObject, parseJson, stringifyJson, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { parseDescription, SECRET_SETTINGS, type DeletedRule, type RestDescription, type RestParent, type RestRateLimit, type RestStream, type RestWebhooks } from './description/index.js';
import { DELETED_AT, propertySchema } from '../../src/connector/versions.js';
import { readFeed, readsFeed, stampedAtStart } from './change-feed.js';
import { inferSchema } from './infer-schema.js';
import { tombstoneStream } from './tombstones.js';
import { shapeOf } from './unnest.js';

/**
 * From a described API to stream definitions the runner can drive. The auth provider is
 * made once and shared by every stream, so an OAuth token (and a rotating refresh token)
 * lives across streams; each stream's read gets its own client bound to the run's signal.
 */

export interface ResolveContext {
  log: Logger;
  signal: AbortSignal;
  /** Client options for tests (sleep, clock); the description's base URL, headers and auth still apply. */
  http?: Omit<HttpClientOptions, 'baseUrl' | 'auth' | 'log' | 'signal'>;
  /** `--about`: no request; streams without a schema get a bare one instead of one inferred from a page. */
  offline?: boolean;
  /**
   * Credentials made by the caller, used instead of the description's `auth`: a pre-built
   * connector that reads the token response (Salesforce's instance URL) passes one provider to
   * each session it opens, so they share one token.
   */
  auth?: AuthProvider;
}

/**
 * The streams a `rest` config describes, ready for the runner. Throws a UsageError listing
 * every problem of the description with its path. Streams without a schema get one inferred
 * from their first page, which costs one request each (a child stream also needs its parent's
 * first page, unless that was already asked for to infer the parent's schema).
 */
/** A checked description with the one way its clients are made (auth, pacing, budget, secrets). */
export interface RestSession {
  description: RestDescription;
  /** A client with the description's base URL, headers, auth, cost pacing and budget. */
  clientFor: (log: Logger, signal: AbortSignal) => HttpClient;
  /**
   * Obtains the credentials before any request (an OAuth token, asked for through a client of
   * the session that carries none), for a caller that needs the token response first.
   */
  authorize: (log: Logger, signal: AbortSignal) => Promise<void>;
}

/**
 * Checks a description and prepares its clients. Pre-built connectors use it too, for the
 * requests only they make (a describe call, a bulk export), so those share the run's auth,
 * token renewals, budget and recordings. Throws a UsageError listing every problem.
 */
export function openRestSession(config: JsonObject, ctx: ResolveContext): RestSession {
  // A replay answers from recordings, and --about sends nothing: credentials are not needed.
  const { description, problems } = parseDescription(config, { credentialsOptional: ctx.http?.replayer !== undefined || ctx.offline === true });
  if (description === undefined) {
    throw new UsageError(`invalid API description for rest (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  const auth = ctx.auth ?? makeAuth(description, config, ctx.log);
  const secrets = SECRET_SETTINGS.map((s) => config[s]).filter((v): v is string => typeof v === 'string' && v.length >= 4);
  // One cost bucket per run for GraphQL APIs: every stream's queries draw on the same budget.
  const pacer = description.streams.some((s) => s.graphql !== undefined) ? new CostBucket() : undefined;
  const budget = budgetOf(description.rateLimit, ctx.http);
  const errorCheck = errorRulesCheck(description.errors);
  const options = (log: Logger, signal: AbortSignal): HttpClientOptions => ({
    ...ctx.http,
    baseUrl: description.baseUrl,
    headers: { accept: 'application/json', ...description.headers },
    log,
    signal,
    secrets,
    ...(pacer === undefined ? {} : { pacer }),
    ...(errorCheck === undefined ? {} : { errorCheck }),
    ...budget,
  });
  const clientFor = (log: Logger, signal: AbortSignal): HttpClient => createHttpClient({ ...options(log, signal), ...(auth === undefined ? {} : { auth }) });
  const authorize = async (log: Logger, signal: AbortSignal): Promise<void> => {
    if (auth?.authorize === undefined) return;
    const client = createHttpClient(options(log, signal));
    try {
      await auth.authorize({ send: (request) => client.request(request), now: ctx.http?.now ?? Date.now });
    } finally {
      await client.close();
    }
  };
  return { description, clientFor, authorize };
}

export async function resolveRestStreams(config: JsonObject, ctx: ResolveContext): Promise<StreamDefinition<JsonObject>[]> {
  const { description, clientFor } = openRestSession(config, ctx);
  const out: StreamDefinition<JsonObject>[] = [];
  const built = new Map<string, StreamDefinition<JsonObject>>();
  const samples = new Samples(description.streams);
  const tombstoned = new Map<string, string[]>();
  for (const s of description.streams) {
    if (s.tombstonesFor !== undefined) tombstoned.set(s.tombstonesFor.stream, [...(tombstoned.get(s.tombstonesFor.stream) ?? []), s.name]);
  }
  for (const stream of description.streams) {
    const parent = stream.parent === undefined ? undefined : built.get(stream.parent.stream);
    const target = stream.tombstonesFor === undefined ? undefined : built.get(stream.tombstonesFor.stream);
    if (target !== undefined) {
      // Its records are the target's: no schema of its own to infer.
      const definition = tombstoneStream(stream, target, (rc) =>
        parent === undefined ? readStream(stream, description, rc, clientFor(rc.log, rc.signal)) : readChildren(stream, description, rc, parent, () => clientFor(rc.log, rc.signal)),
      );
      built.set(stream.name, definition);
      out.push(definition);
      continue;
    }
    let schema = stream.schema;
    // Without a request, the keys are all that is known of a record.
    if (schema === undefined && ctx.offline === true) schema = inferSchema([], stream.primaryKey);
    if (schema === undefined) {
      const client = clientFor(ctx.log, ctx.signal);
      try {
        const sample = await samples.of(stream, client);
        schema = inferSchema(sample, stream.primaryKey, stream.replicationKey === undefined ? [] : [stream.replicationKey]);
        ctx.log.debug(`stream ${stream.name}: schema inferred from ${sample.length} records`);
      } finally {
        await client.close();
      }
    }
    const link = stream.parent;
    const hooks = webhookEventsOf(description.webhooks, stream.name);
    const marksDeletions = stream.deletedWhen !== undefined || (stream.changes?.deletedEvents.length ?? 0) > 0 || tombstoned.has(stream.name);
    // Properties sync writes itself: the parent's key, the time of the change (objects read
    // through a change feed may have none), the deletion time.
    let fullSchema = link === undefined ? schema : withProperty(schema, link.as, { type: ['integer', 'string'] });
    if (stream.changes !== undefined && stream.replicationKey !== undefined) fullSchema = withProperty(fullSchema, stream.replicationKey, DATE_TIME);
    if (marksDeletions) fullSchema = withProperty(fullSchema, DELETED_AT, DATE_TIME);
    const feedStream: ParentBound = stream.replicationKey === undefined ? stream : { ...stream, versionProperty: propertySchema(fullSchema, stream.replicationKey) };
    const definition = defineStream<JsonObject>({
      name: stream.name,
      ...(stream.description === undefined ? {} : { description: stream.description }),
      schema: fullSchema,
      ...(marksDeletions || stream.reconcileDeletes !== undefined || hooks.deleting.length > 0
        ? { deletions: describeDeletions(stream, tombstoned.get(stream.name) ?? [], hooks.deleting, webhookTime(description.webhooks)) }
        : {}),
      ...versionNoteOf(stream, description.webhooks, hooks),
      ...(stream.reconcileDeletes === undefined ? {} : { reconcileDeletes: stream.reconcileDeletes }),
      keyProperties: stream.primaryKey,
      ...(stream.replicationKey === undefined ? {} : { replicationKey: stream.replicationKey }),
      ...(stream.versionKey === undefined ? {} : { versionKey: stream.versionKey }),
      sorted: stream.sorted,
      ...(link === undefined ? {} : { partitionOf: (record: JsonObject) => partitionKey(record[link.as]) }),
      read: (rc) =>
        parent === undefined
          ? readStream(feedStream, description, rc, clientFor(rc.log, rc.signal))
          : readChildren(stream, description, rc, parent, () => clientFor(rc.log, rc.signal)),
    });
    built.set(stream.name, definition);
    out.push(definition);
  }
  return out;
}

/**
 * A child stream: every parent is read on every run (a child can change while its parent
 * does not), then each parent's children from that parent's own bookmark. Each child
 * record carries its parent's key (`parent.as`), which is also its bookmark partition.
 */
async function* readChildren(
  stream: RestStream,
  description: RestDescription,
  ctx: StreamContext<JsonObject>,
  parent: StreamDefinition<JsonObject>,
  client: () => HttpClient,
): AsyncGenerator<JsonObject[]> {
  const link = stream.parent as RestParent;
  const { partitionBookmark, ...rest } = ctx;
  for await (const parentRecord of eachRecord(parent.read({ ...rest, bookmark: undefined }))) {
    if (ctx.signal.aborted) return;
    const value = parentRecord[link.key];
    if (value === undefined || value === null) {
      ctx.log.warn(`stream ${stream.name}: a ${link.stream} record has no "${link.key}"; its children are skipped`);
      continue;
    }
    const bookmark = partitionBookmark ? partitionBookmark(partitionKey(value)) : ctx.bookmark;
    for await (const page of readStream(forParent(stream, value), description, { ...rest, bookmark }, client())) {
      yield page.map((record) => (Object.hasOwn(record, link.as) ? record : { ...record, [link.as]: value }));
    }
  }
}

/** The stream for one parent: `{parent}` stands for the parent's key wherever the request uses it. */
function forParent(stream: RestStream, value: JsonValue): ParentBound {
  return { ...stream, parentValue: typeof value === 'number' ? value : partitionKey(value) };
}

function partitionKey(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : value === undefined ? '' : stringifyJson(value);
}

/**
 * First pages for schema inference: exactly one request per stream, never the paginator (it
 * asks for the next page before handing over the first). A child stream's sample is the first
 * page of its first parent's children; the parents come from the parent's own first page,
 * fetched once and shared with the parent's inference.
 */
class Samples {
  private readonly pages = new Map<string, Promise<JsonObject[]>>();

  constructor(private readonly streams: readonly RestStream[]) {}

  of(stream: RestStream, client: HttpClient): Promise<JsonObject[]> {
    let page = this.pages.get(stream.name);
    if (page === undefined) this.pages.set(stream.name, (page = this.fetch(stream, client)));
    return page;
  }

  private async fetch(stream: RestStream, client: HttpClient): Promise<JsonObject[]> {
    const link = stream.parent;
    if (link === undefined) return firstPageRecords(client, stream);
    const parent = this.streams.find((s) => s.name === link.stream);
    if (parent === undefined) throw new UsageError(`stream ${stream.name}: its parent ${link.stream} is not described`);
    for (const record of await this.of(parent, client)) {
      const value = record[link.key];
      if (value !== undefined && value !== null) return firstPageRecords(client, forParent(stream, value));
    }
    throw new UsageError(`stream ${stream.name}: cannot infer its schema: the first page of ${link.stream} has no record with "${link.key}"; give the stream a "schema"`);
  }
}

/** The records of a stream's first page: one request. */
async function firstPageRecords(client: HttpClient, stream: ParentBound): Promise<JsonObject[]> {
  const { request } = firstPage(baseRequest(stream, {}), stream.pagination);
  const response = await client.request({ ...request, expectJson: true });
  const records = recordsAt(response.json(), stream.recordsPath, stream.name, stream.recordsOptional);
  const shape = shapeOf(stream);
  return shape === undefined ? records : records.map(shape);
}

/** The stream's records, a page at a time. */
async function* readStream(stream: ParentBound, description: RestDescription, ctx: StreamContext<JsonObject>, client: HttpClient): AsyncGenerator<JsonObject[]> {
  try {
    const feed = stream.changes === undefined ? undefined : description.changeFeeds.get(stream.changes.feed);
    if (feed !== undefined && readsFeed(stream, feed, ctx)) {
      yield* readFeed(stream, feed, ctx, client, stream.versionProperty);
      return;
    }
    // A stream with a change feed is listed in full, whatever its bookmark says.
    const rule = feed === undefined ? stream.incremental : undefined;
    const key = stream.replicationKey;
    let bound: JsonValue | undefined;
    const values: TemplateValues = {};
    if (rule !== undefined && key !== undefined) {
      bound = lowerBound(ctx.bookmark, stream.startDate ?? description.startDate, rule);
      if (bound !== undefined && bound !== null) {
        if (rule.template === true) values.bookmark = formatBound(bound, rule.format);
        ctx.log.debug(`stream ${stream.name}: reading ${key} >= ${JSON.stringify(bound)}`);
      }
    }
    let request = baseRequest(stream, values, rule?.quoting);
    if (rule !== undefined && rule.template !== true) request = withBound(request, bound, rule);
    const filter = rule !== undefined && key !== undefined && bound !== undefined && filtersClientSide(rule);
    const deleted = stream.deletedWhen === undefined ? undefined : deletionMarker(stream.deletedWhen, key, ctx.startedAt);
    const kept = stream.keepWhen === undefined ? undefined : meets(stream.keepWhen);
    const stamped = feed === undefined || key === undefined ? undefined : stampedAtStart(key, ctx.startedAt);
    // The stream's own listing, then one per variant (its params laid over the stream's).
    const listings = [request, ...stream.variants.map((extra) => ({ ...request, query: { ...request.query, ...extra } }))];
    // Newest first: the first record below the bound ends the listing, the rest is older still.
    const endsAtBound = rule?.newestFirst === true && key !== undefined && bound !== undefined && bound !== null;
    for (const listing of listings) {
      const pages = paginate(client, listing, stream.pagination, {
        stream: stream.name,
        recordsPath: stream.recordsPath,
        signal: ctx.signal,
        recordsOptional: stream.recordsOptional,
        shape: shapeOf(stream),
        ...(endsAtBound ? { prefetch: false } : {}),
      });
      for await (const page of pages) {
        const below = endsAtBound ? page.records.findIndex((record) => !atOrAfter(record, key, bound)) : -1;
        const listed = below === -1 ? page.records : page.records.slice(0, below);
        let records = filter ? listed.filter((record) => atOrAfter(record, key, bound)) : listed;
        if (kept !== undefined) records = records.filter(kept);
        if (deleted !== undefined) records = records.map(deleted);
        if (stamped !== undefined) records = records.map(stamped);
        if (records.length > 0) yield records;
        if (below !== -1) break;
      }
    }
  } finally {
    await client.close();
  }
}

/**
 * A described stream, with the key of the parent it is read for (child streams) and, for a
 * stream with a change feed, the schema of its replication key (the form versions take).
 */
type ParentBound = RestStream & { parentValue?: string | number; versionProperty?: JsonValue | undefined };

/**
 * The stream's first request: the description's path, params and body (a GraphQL query as
 * `{query, variables}`), with `{bookmark}` and `{parent}` written where they stand.
 */
function baseRequest(stream: ParentBound, values: TemplateValues, quoting: Quoting = 'none'): HttpRequest {
  const all: TemplateValues = { ...values, ...(stream.parentValue === undefined ? {} : { parent: stream.parentValue }) };
  try {
    const inPath: TemplateValues = {};
    if (all.bookmark !== undefined) inPath.bookmark = encodeURIComponent(String(all.bookmark));
    if (all.parent !== undefined) inPath.parent = pathSegments(String(all.parent));
    const query: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(stream.params)) {
      if (typeof v !== 'string') query[k] = v;
      else {
        // A parameter that was only an optional part (`[[{bookmark}]]`) is left out, not sent empty.
        const filled = fillText(v, all, quoting);
        if (filled !== '' || v === '') query[k] = filled;
      }
    }
    const body = stream.graphql === undefined ? stream.body : { query: stream.graphql.query, variables: stream.graphql.variables };
    return {
      method: stream.method,
      path: fillText(stream.path, inPath, 'none'),
      query,
      ...(body === undefined ? {} : { body: fillJson(body, all, quoting) as JsonObject }),
      ...(stream.graphql === undefined ? {} : { check: graphqlCheck({ retriableCodes: stream.graphql.retriableCodes }) }),
    };
  } catch (err) {
    if (err instanceof TemplateError) throw new UsageError(`stream ${stream.name}: ${err.message}`);
    throw err;
  }
}

/**
 * A value written into a path: each `/`-separated part percent-encoded, the slashes kept (a
 * parent key such as GitHub's `owner/repo` is two segments of the path). A `.` or `..` part
 * would move the request elsewhere on the host: refused.
 */
function pathSegments(value: string): string {
  const parts = value.split('/');
  if (parts.some((p) => p === '.' || p === '..' || p === '')) throw new SourceError(`the parent key ${JSON.stringify(value)} cannot go into a path (an empty, "." or ".." part)`);
  return parts.map((p) => encodeURIComponent(p)).join('/');
}

/**
 * Marks a record that meets `deleted_when` as deleted: `_sdc_deleted_at` is its replication-key
 * value when that is a time (when it was last changed, which the deletion was), else the run's start.
 */
function deletionMarker(rule: DeletedRule, key: string | undefined, startedAt: Date): (record: JsonObject) => JsonObject {
  const isDeleted = meets(rule);
  const fallback = startedAt.toISOString();
  return (record) => {
    if (!isDeleted(record)) return record;
    const at = key === undefined ? undefined : record[key];
    return { ...record, [DELETED_AT]: typeof at === 'string' && at !== '' ? at : fallback };
  };
}

/** The webhook events a description routes to a stream, and those of them that report deletions. */
function webhookEventsOf(webhooks: RestWebhooks | undefined, stream: string): { all: string[]; deleting: string[] } {
  const all: string[] = [];
  const deleting: string[] = [];
  for (const [name, event] of webhooks?.events ?? []) {
    if (event.stream !== stream) continue;
    all.push(name);
    if (event.deleted) deleting.push(name);
  }
  return { all, deleting };
}

/** What `--discover` says of a stream's version when the catalog's plain wording would not say it all. */
function versionNoteOf(stream: RestStream, webhooks: RestWebhooks | undefined, hooks: { all: string[] }): { versionNote?: string } {
  const key = stream.replicationKey;
  if (stream.changes !== undefined && key !== undefined) return { versionNote: describeChangeVersion(key, stream.changes.feed) };
  if (webhooks === undefined || hooks.all.length === 0) return {};
  const version = key ?? stream.versionKey;
  if (version === undefined) return { versionNote: 'none: the copy written last wins, webhook or batch (a replication_key or version_key lets deliveries that arrive out of order be put back in order)' };
  const given = webhooks.versionPath ?? webhooks.timePath;
  const fromEvent = given === undefined ? 'a delivery whose object has none carries none' : `a delivery whose object has none takes the event's ${given}`;
  return { versionNote: `the record's ${version} (${fromEvent}); the newest copy of a row wins, whichever path wrote it` };
}

/** When a webhook deletion is stamped: the event's time (or version) where the description says where it is. */
function webhookTime(webhooks: RestWebhooks | undefined): string {
  const path = webhooks?.timePath ?? webhooks?.versionPath;
  return path === undefined ? 'the time it was received' : `the event's ${path}`;
}

function describeDeletions(stream: RestStream, tombstones: readonly string[], webhookDeletions: readonly string[], webhookStamp: string): string {
  const parts: string[] = [];
  if (webhookDeletions.length > 0) parts.push(`webhook events ${webhookDeletions.join(', ')} mark the row deleted (_sdc_deleted_at: ${webhookStamp})`);
  if (tombstones.length > 0) parts.push(`deletions listed by ${tombstones.join(', ')} mark rows deleted (_sdc_deleted_at)`);
  const rule = stream.deletedWhen;
  if (rule !== undefined) {
    const values = rule.values.map((v) => stringifyJson(v)).join(' or ');
    const listings = stream.variants.length ? ` (also read with ${stream.variants.map((v) => stringifyJson(v)).join(', ')})` : '';
    parts.push(`records whose ${rule.path} is ${values} are marked deleted (_sdc_deleted_at)${listings}`);
  }
  const changes = stream.changes;
  if (changes !== undefined && changes.deletedEvents.length > 0) {
    parts.push(`${changes.deletedEvents.join(', ')} events in ${changes.feed} mark the row deleted (_sdc_deleted_at, the event time)`);
  }
  if (stream.reconcileDeletes !== undefined) {
    parts.push(`a full read marks rows it did not see as deleted, at most ${Math.round(stream.reconcileDeletes.maxShare * 100)}% of the table at once`);
  }
  return parts.join('; ');
}

/** Whether a record's value at the rule's path is one of its values (compared as JSON). */
export function meets(rule: DeletedRule): (record: JsonObject) => boolean {
  const wanted = new Set(rule.values.map((v) => stringifyJson(v)));
  return (record) => {
    const value = valueAt(record, rule.path);
    return value !== undefined && wanted.has(stringifyJson(value));
  };
}

function describeChangeVersion(key: string, feed: string): string {
  return `${key}: the time of the change (the event's time from ${feed} or a webhook, the read's start in a full read); the newest copy of a row wins`;
}

const DATE_TIME: JsonObject = { type: ['null', 'string'], format: 'date-time' };

/** The schema with a property added, unless it already declares one of that name. */
function withProperty(schema: JsonObject, name: string, definition: JsonObject): JsonObject {
  const properties = isJsonObject(schema['properties']) ? schema['properties'] : {};
  if (Object.hasOwn(properties, name)) return schema;
  return { ...schema, properties: { ...properties, [name]: definition } };
}

function makeAuth(description: RestDescription, config: JsonObject, log: Logger): AuthProvider | undefined {
  const setting = (name: string): string => {
    const value = config[name];
    return typeof value === 'string' ? value : '';
  };
  const optional = (name: string): string | undefined => (setting(name) === '' ? undefined : setting(name));
  const auth = description.auth;
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'api_key':
      return apiKeyAuth({ in: auth.in, name: auth.name, value: setting('api_key'), ...(auth.prefix === undefined ? {} : { prefix: auth.prefix }) });
    case 'bearer':
      return bearerAuth(setting('token'));
    case 'basic':
      return basicAuth(setting('username'), setting('password'));
    case 'oauth2_client_credentials':
      return oauth2ClientCredentials({
        tokenUrl: auth.tokenUrl,
        clientId: setting('client_id'),
        clientSecret: setting('client_secret'),
        clientAuth: auth.clientAuth,
        ...(auth.scope === undefined ? {} : { scope: auth.scope }),
      });
    case 'oauth2_refresh_token': {
      const secret = optional('client_secret');
      const file = optional('refresh_token_file');
      // Rotated tokens are written to the file, so what it holds is newer than a token set in
      // the environment (SYNC_REST_REFRESH_TOKEN) or the config, which may be dead by now.
      const stored = file === undefined ? undefined : storedRefreshToken(file);
      if (stored !== undefined && optional('refresh_token') !== undefined && stored !== setting('refresh_token')) {
        log.info(`using the refresh token in ${file} (refresh_token_file), which is newer than the refresh_token setting`);
      }
      return oauth2RefreshToken({
        tokenUrl: auth.tokenUrl,
        clientId: setting('client_id'),
        refreshToken: stored ?? setting('refresh_token'),
        clientAuth: auth.clientAuth,
        ...(secret === undefined ? {} : { clientSecret: secret }),
        ...(auth.scope === undefined ? {} : { scope: auth.scope }),
        // A rotated refresh token is written back before it is relied on.
        ...(file === undefined ? {} : { persist: persistToConfigFile(file, 'refresh_token') }),
      });
    }
  }
}

/** The `refresh_token` a refresh_token_file holds, or undefined when there is no such file or key yet. */
function storedRefreshToken(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`refresh_token_file ${path} cannot be read: ${(err as Error).message}`);
  }
  let value: JsonValue;
  try {
    value = parseJson(text).value;
  } catch (err) {
    throw new UsageError(`refresh_token_file ${path} is not JSON: ${(err as Error).message}`);
  }
  const token = isJsonObject(value) ? value['refresh_token'] : undefined;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/**
 * The description's rate_limit as client options: one request budget for the whole session,
 * so that every stream's client (and each parent's children) draws on the same allowance.
 */
function budgetOf(limit: RestRateLimit, http: ResolveContext['http']): Pick<HttpClientOptions, 'budget' | 'rateLimitResetHeader'> {
  const options: BudgetOptions = {
    ...(limit.requestsPerSecond === undefined ? {} : { requestsPerSecond: limit.requestsPerSecond }),
    ...(limit.maxConcurrent === undefined ? {} : { maxConcurrentPerHost: limit.maxConcurrent }),
    ...(limit.endpoints === undefined ? {} : { endpoints: limit.endpoints }),
  };
  return {
    ...(Object.keys(options).length ? { budget: new RequestBudget(options, http?.now ?? Date.now, http?.sleep ?? defaultSleep) } : {}),
    ...(limit.resetHeader === undefined ? {} : { rateLimitResetHeader: limit.resetHeader }),
  };
}
