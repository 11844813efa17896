import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { startServer, type SeenRequest, type TestServer } from '../http/server.js';
import { parseSoql, SoqlError, type Literal, type Soql } from './soql.js';

/**
 * A Salesforce org as its documentation describes it (not as the connector calls it), on two
 * local servers, the login host and the org's instance:
 *
 * - `POST {login}/services/oauth2/token`, `grant_type=refresh_token` with `client_id`,
 *   `client_secret`, `refresh_token` (form): `access_token`, `instance_url`, `id` (the identity
 *   URL: `/id/<org id>/<user id>`), `token_type` Bearer, `issued_at` (epoch ms as text),
 *   `signature` (base64 HMAC-SHA256 of id + issued_at keyed by the client secret); no
 *   `expires_in`: a session lasts until it times out. A refresh token it does not know is
 *   `400 {"error":"invalid_grant","error_description":"expired access/refresh token"}`.
 * - On the instance, `Authorization: Bearer <token>`; an unknown or expired session is
 *   `401 [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`. Every
 *   answer carries `Sforce-Limit-Info: api-usage=<used>/<limit>`; each call counts.
 * - Limits (REQUEST_LIMIT_EXCEEDED, 403): once the org's calls of the last 24 hours reach its
 *   allowance, every call is `403 [{"message":"TotalRequests Limit exceeded.","errorCode":
 *   "REQUEST_LIMIT_EXCEEDED"}]` until they age out; while the org has as many long-running
 *   requests (20 s or more) in flight as it may (25 in production), a new one is
 *   `403 [{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`.
 *   Refused calls are not counted.
 * - `GET /services/data/vXX.X/sobjects/<Object>/describe`: `name`, `fields` (name, type,
 *   nillable, compoundFieldName…); an unknown object is 404 NOT_FOUND.
 * - `GET …/query?q=` and `…/queryAll?q=` (queryAll also returns deleted records, IsDeleted
 *   true): `{totalSize, done, nextRecordsUrl?, records}`, each record with `attributes`
 *   (`type`, `url`); at most 2000 records a batch (`Sforce-Query-Options: batchSize=` lowers
 *   it, 200 at least; `batchSize` here stands in for it in tests); `nextRecordsUrl` is
 *   relative (`/services/data/v62.0/queryAll/01g…-2000`). Date-times are written
 *   `2026-01-10T00:00:01.000+0000`, dates `2026-01-10`; compound address fields are objects.
 *   Errors are `400 [{"message", "errorCode"}]` (soql.ts).
 * - Outbound messages: the SOAP body Salesforce POSTs for a workflow rule's or flow's
 *   outbound message (`notifications` with OrganizationId, ActionId, SessionId, EnterpriseUrl,
 *   PartnerUrl and up to 100 `Notification`s of an `Id` and an `sObject` typed
 *   `xsi:type="sf:<Object>"` holding the selected fields; empty fields are left out;
 *   date-times in `Z`).
 */

export type FieldType =
  | 'id' | 'string' | 'textarea' | 'picklist' | 'email' | 'phone' | 'url' | 'reference'
  | 'boolean' | 'int' | 'double' | 'currency' | 'percent' | 'date' | 'datetime' | 'address' | 'base64';

export interface FieldDef {
  name: string;
  type: FieldType;
  /** Components of an address point at it. */
  compoundFieldName?: string;
}

/** A number as Salesforce stores it: its decimal text, written as it is into JSON and XML. */
export class Decimal {
  constructor(readonly text: string) {}
}

export type Value = string | number | boolean | null | Decimal;
export type SObject = Record<string, Value>;

interface ObjectTable {
  fields: FieldDef[];
  records: SObject[];
}

const AUDIT: FieldDef[] = [
  { name: 'IsDeleted', type: 'boolean' },
  { name: 'CreatedDate', type: 'datetime' },
  { name: 'LastModifiedDate', type: 'datetime' },
  { name: 'SystemModstamp', type: 'datetime' },
];

const address = (prefix: string): FieldDef[] => [
  { name: `${prefix}Street`, type: 'textarea', compoundFieldName: `${prefix}Address` },
  { name: `${prefix}City`, type: 'string', compoundFieldName: `${prefix}Address` },
  { name: `${prefix}PostalCode`, type: 'string', compoundFieldName: `${prefix}Address` },
  { name: `${prefix}Country`, type: 'string', compoundFieldName: `${prefix}Address` },
  { name: `${prefix}Latitude`, type: 'double', compoundFieldName: `${prefix}Address` },
  { name: `${prefix}Longitude`, type: 'double', compoundFieldName: `${prefix}Address` },
  { name: `${prefix}Address`, type: 'address' },
];

/** The standard objects' fields the model has (a subset of the real ones), and one custom object. */
export const OBJECT_FIELDS: Record<string, FieldDef[]> = {
  Contact: [
    { name: 'Id', type: 'id' }, { name: 'AccountId', type: 'reference' }, { name: 'FirstName', type: 'string' }, { name: 'LastName', type: 'string' },
    { name: 'Name', type: 'string' }, { name: 'Email', type: 'email' }, { name: 'Phone', type: 'phone' }, { name: 'Birthdate', type: 'date' },
    { name: 'HasOptedOutOfEmail', type: 'boolean' }, ...address('Mailing'), { name: 'Score__c', type: 'double' }, ...AUDIT,
  ],
  Account: [
    { name: 'Id', type: 'id' }, { name: 'Name', type: 'string' }, { name: 'Type', type: 'picklist' }, { name: 'AnnualRevenue', type: 'currency' },
    { name: 'NumberOfEmployees', type: 'int' }, { name: 'Website', type: 'url' }, ...address('Billing'), ...AUDIT,
  ],
  Lead: [
    { name: 'Id', type: 'id' }, { name: 'LastName', type: 'string' }, { name: 'Company', type: 'string' }, { name: 'Status', type: 'picklist' },
    { name: 'Email', type: 'email' }, { name: 'IsConverted', type: 'boolean' }, ...AUDIT,
  ],
  Opportunity: [
    { name: 'Id', type: 'id' }, { name: 'AccountId', type: 'reference' }, { name: 'Name', type: 'string' }, { name: 'StageName', type: 'picklist' },
    { name: 'Amount', type: 'currency' }, { name: 'Probability', type: 'percent' }, { name: 'CloseDate', type: 'date' }, { name: 'IsWon', type: 'boolean' },
    { name: 'Description', type: 'textarea' }, ...AUDIT,
  ],
  OpportunityLineItem: [
    { name: 'Id', type: 'id' }, { name: 'OpportunityId', type: 'reference' }, { name: 'Quantity', type: 'double' }, { name: 'UnitPrice', type: 'currency' }, ...AUDIT,
  ],
  Invoice__c: [
    { name: 'Id', type: 'id' }, { name: 'Name', type: 'string' }, { name: 'Account__c', type: 'reference' }, { name: 'Total__c', type: 'currency' },
    { name: 'Paid__c', type: 'boolean' }, { name: 'Due__c', type: 'date' }, { name: 'Lines__c', type: 'double' }, ...AUDIT,
  ],
  Document: [{ name: 'Id', type: 'id' }, { name: 'Name', type: 'string' }, { name: 'Body', type: 'base64' }, ...AUDIT],
};

const KEY_PREFIX: Record<string, string> = { Contact: '003', Account: '001', Lead: '00Q', Opportunity: '006', OpportunityLineItem: '00k', Invoice__c: 'a0B', Document: '015' };

export class SalesforceModel {
  login!: TestServer;
  instance!: TestServer;
  readonly orgId = '00D5g000004SzKqEAK';
  readonly userId = '0055g00000AbCdEAAZ';
  readonly tables = new Map<string, ObjectTable>();
  /** The refresh tokens the connected app issued, and the sessions (access tokens) alive. */
  readonly refreshTokens = new Set<string>();
  private readonly sessions = new Set<string>();
  /** Every SOQL query received, as sent. */
  readonly queries: string[] = [];
  readonly tokenRequests: URLSearchParams[] = [];
  apiUsed = 0;
  apiLimit = 15_000;
  /** Records per query batch; Salesforce's default is 2000. */
  batchSize = 2000;
  /** Sessions time out just before this data call (1 = the first) is answered: a run's token dies under it. */
  expireBeforeCall: number | undefined;
  /** Data calls refused with INVALID_SESSION_ID. */
  refused = 0;
  /** The instance URL token responses name; default the model's instance server. */
  tokenInstanceUrl: string | undefined;
  /** The org's long-running requests stay at their limit for this many more data calls, each refused. */
  busyForCalls = 0;
  /** Data calls refused with REQUEST_LIMIT_EXCEEDED, by message. */
  readonly limitRefusals: string[] = [];
  private seconds = 0;
  private minted = 0;
  private cursors = new Map<string, SObject[]>();
  private nextCursor = 1;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    for (const [name, fields] of Object.entries(OBJECT_FIELDS)) this.tables.set(name, { fields, records: [] });
  }

  async start(): Promise<this> {
    this.login = await startServer((req, res, seen) => this.handleLogin(req.method ?? 'GET', req.url ?? '/', seen, res));
    this.instance = await startServer((req, res) => this.handleData(req.method ?? 'GET', req.url ?? '/', req.headers.authorization, res));
    return this;
  }

  async close(): Promise<void> {
    await this.login.close();
    await this.instance.close();
  }

  /** Every session times out at once (the org's session timeout, or an admin revoking them). */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** The model's clock: each change one second after the one before, written as the REST API writes date-times. */
  tick(): string {
    const t = new Date(Date.UTC(2026, 0, 10) + ++this.seconds * 1000).toISOString();
    return `${t.slice(0, 23)}+0000`;
  }

  table(object: string): ObjectTable {
    const table = this.tables.get(object);
    if (!table) throw new Error(`no object ${object}`);
    return table;
  }

  insert(object: string, values: SObject): SObject {
    const table = this.table(object);
    const at = this.tick();
    const id = `${KEY_PREFIX[object] ?? 'a00'}5g00000${String(table.records.length + 1).padStart(5, '0')}AAA`;
    const record: SObject = {};
    for (const f of table.fields) if (f.type !== 'address') record[f.name] = null;
    Object.assign(record, values, { Id: id, IsDeleted: false, CreatedDate: at, LastModifiedDate: at, SystemModstamp: at });
    if (object === 'Contact') record['Name'] = [record['FirstName'], record['LastName']].filter((x) => x !== null).join(' ');
    table.records.push(record);
    return record;
  }

  update(object: string, id: string, values: SObject): SObject {
    const record = this.find(object, id);
    const at = this.tick();
    Object.assign(record, values, { LastModifiedDate: at, SystemModstamp: at });
    if (object === 'Contact') record['Name'] = [record['FirstName'], record['LastName']].filter((x) => x !== null).join(' ');
    return record;
  }

  /** To the recycle bin: queryAll still lists it, IsDeleted true. */
  remove(object: string, id: string): void {
    const record = this.find(object, id);
    const at = this.tick();
    Object.assign(record, { IsDeleted: true, SystemModstamp: at });
  }

  find(object: string, id: string): SObject {
    const record = this.table(object).records.find((r) => r['Id'] === id);
    if (!record) throw new Error(`no ${object} ${id}`);
    return record;
  }

  /**
   * The SOAP body of one outbound message: a notification per record, carrying the fields the
   * outbound message selects (Id always), empty ones left out.
   */
  outboundMessage(object: string, ids: readonly string[], fields: readonly string[], orgId = this.orgId): string {
    const types = new Map(this.table(object).fields.map((f) => [f.name, f.type]));
    const notifications = ids.map((id, n) => {
      const record = this.find(object, id);
      const values = ['Id', ...fields.filter((f) => f !== 'Id')]
        .filter((f) => record[f] !== null && record[f] !== undefined)
        .map((f) => `<sf:${f}>${xmlText(soapValue(record[f] as Value, types.get(f)))}</sf:${f}>`)
        .join('');
      return (
        `<Notification><Id>04l5g00000${String(n + 1).padStart(6, '0')}AAA</Id>` +
        `<sObject xsi:type="sf:${object}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">${values}</sObject></Notification>`
      );
    });
    const instance = this.instance.url;
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
      '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">' +
      `<OrganizationId>${orgId}</OrganizationId><ActionId>04k5g000000AbCdAAK</ActionId><SessionId xsi:nil="true"/>` +
      `<EnterpriseUrl>${instance}/services/Soap/c/62.0/${orgId.slice(0, 15)}</EnterpriseUrl>` +
      `<PartnerUrl>${instance}/services/Soap/u/62.0/${orgId.slice(0, 15)}</PartnerUrl>` +
      notifications.join('') +
      '</notifications></soapenv:Body></soapenv:Envelope>'
    );
  }

  private handleLogin(method: string, rawUrl: string, seen: SeenRequest, res: ServerResponse): void {
    const url = new URL(rawUrl, 'http://login');
    if (method !== 'POST' || url.pathname !== '/services/oauth2/token') return send(res, 404, { error: 'not_found', error_description: 'unknown endpoint' });
    const form = new URLSearchParams(seen.body);
    this.tokenRequests.push(form);
    if (form.get('grant_type') !== 'refresh_token') return send(res, 400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    if (form.get('client_id') !== this.clientId) return send(res, 400, { error: 'invalid_client_id', error_description: 'client identifier invalid' });
    if (form.get('client_secret') !== this.clientSecret) return send(res, 400, { error: 'invalid_client', error_description: 'invalid client credentials' });
    if (!this.refreshTokens.has(form.get('refresh_token') ?? '')) return send(res, 400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
    const token = `${this.orgId.slice(0, 15)}!AQ4AQ.session${++this.minted}.${'x'.repeat(24)}`;
    this.sessions.add(token);
    const id = `${this.login.url}/id/${this.orgId}/${this.userId}`;
    const issuedAt = String(Date.UTC(2026, 0, 10) + this.minted * 1000);
    const signature = createHmac('sha256', this.clientSecret).update(id + issuedAt).digest('base64');
    const instanceUrl = this.tokenInstanceUrl ?? this.instance.url;
    send(res, 200, { access_token: token, signature, scope: 'refresh_token api', instance_url: instanceUrl, id, token_type: 'Bearer', issued_at: issuedAt });
  }

  private handleData(method: string, rawUrl: string, authorization: string | undefined, res: ServerResponse): void {
    if (this.expireBeforeCall !== undefined && this.apiUsed + 1 >= this.expireBeforeCall) {
      this.expireBeforeCall = undefined;
      this.expireSessions();
    }
    if (!authorization?.startsWith('Bearer ') || !this.sessions.has(authorization.slice(7))) {
      this.refused++;
      return send(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    }
    if (this.apiUsed >= this.apiLimit) return this.refuseForLimit(res, 'TotalRequests Limit exceeded.');
    if (this.busyForCalls > 0) {
      this.busyForCalls--;
      return this.refuseForLimit(res, 'ConcurrentPerOrgLongTxn Limit exceeded.');
    }
    this.apiUsed++;
    const limit = { 'sforce-limit-info': `api-usage=${this.apiUsed}/${this.apiLimit}` };
    const url = new URL(rawUrl, 'http://instance');
    const notFound = () => send(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }], limit);
    if (method !== 'GET') return send(res, 405, [{ errorCode: 'METHOD_NOT_ALLOWED', message: `HTTP Method '${method}' not allowed. Allowed are GET` }], limit);
    const describe = /^\/services\/data\/v\d+\.\d\/sobjects\/(\w+)\/describe$/.exec(url.pathname);
    if (describe) {
      const table = this.tables.get(describe[1] as string);
      if (!table) return notFound();
      return send(res, 200, { name: describe[1], label: describe[1], queryable: true, fields: table.fields.map((f) => describeField(f)) }, limit);
    }
    const more = /^\/services\/data\/v(\d+\.\d)\/(query|queryAll)\/(01g\w+)-(\d+)$/.exec(url.pathname);
    if (more) {
      const rest = this.cursors.get(`${more[3]}-${more[4]}`);
      if (!rest) return send(res, 400, [{ errorCode: 'INVALID_QUERY_LOCATOR', message: 'invalid query locator' }], limit);
      return this.page(res, rest, more[1] as string, more[2] as string, more[3] as string, Number(more[4]), undefined, limit);
    }
    const kind = /^\/services\/data\/v(\d+\.\d)\/(query|queryAll)$/.exec(url.pathname);
    if (!kind) return notFound();
    const q = url.searchParams.get('q') ?? '';
    this.queries.push(q);
    let rows: SObject[];
    try {
      rows = this.run(parseSoql(q), kind[2] === 'queryAll');
    } catch (err) {
      if (err instanceof SoqlError) return send(res, 400, [{ message: err.message, errorCode: err.errorCode }], limit);
      throw err;
    }
    const locator = `01g5g00000Qz${String(this.nextCursor++).padStart(4, '0')}`;
    return this.page(res, rows, kind[1] as string, kind[2] as string, locator, 0, rows.length, limit);
  }

  private refuseForLimit(res: ServerResponse, message: string): void {
    this.limitRefusals.push(message);
    send(res, 403, [{ message, errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
  }

  private page(res: ServerResponse, rows: SObject[], version: string, kind: string, locator: string, offset: number, total: number | undefined, headers: Record<string, string>): void {
    const head = rows.slice(0, this.batchSize);
    const tail = rows.slice(this.batchSize);
    const next = offset + head.length;
    if (tail.length > 0) this.cursors.set(`${locator}-${next}`, tail);
    const body = {
      totalSize: total ?? rows.length + offset,
      done: tail.length === 0,
      ...(tail.length > 0 ? { nextRecordsUrl: `/services/data/v${version}/${kind}/${locator}-${next}` } : {}),
      records: head,
    };
    send(res, 200, body, headers);
  }

  private run(query: Soql, all: boolean): SObject[] {
    const table = this.tables.get(query.object);
    if (!table) throw new SoqlError('INVALID_TYPE', `sObject type '${query.object}' is not supported.`);
    const types = new Map(table.fields.map((f) => [f.name, f]));
    const field = (name: string): FieldDef => {
      const f = types.get(name);
      if (!f) throw new SoqlError('INVALID_FIELD', `No such column '${name}' on entity '${query.object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`);
      return f;
    };
    query.fields.forEach(field);
    let rows = table.records.filter((r) => all || r['IsDeleted'] !== true);
    if (query.where) {
      const { op, value } = query.where;
      const f = field(query.where.field);
      if ((f.type === 'datetime' || f.type === 'date') && value.kind === 'text') {
        throw new SoqlError('INVALID_FIELD', `value of filter criterion for field '${f.name}' must be of type ${f.type === 'datetime' ? 'dateTime' : 'date'} and should not be enclosed in quotes`);
      }
      rows = rows.filter((r) => compare(r[f.name] ?? null, value, op));
    }
    if (query.orderBy) {
      const f = field(query.orderBy.field);
      const sign = query.orderBy.descending ? -1 : 1;
      rows = [...rows].sort((a, b) => sign * order(a[f.name] ?? null, b[f.name] ?? null));
    }
    if (query.limit !== undefined) rows = rows.slice(0, query.limit);
    return rows.map((r) => {
      const out: SObject & { attributes?: unknown } = {};
      (out as Record<string, unknown>)['attributes'] = { type: query.object, url: `/services/data/v62.0/sobjects/${query.object}/${String(r['Id'])}` };
      for (const name of query.fields) (out as Record<string, unknown>)[name] = types.get(name)?.type === 'address' ? compound(r, name, table.fields) : (r[name] ?? null);
      return out;
    });
  }
}

function describeField(f: FieldDef): Record<string, unknown> {
  return {
    name: f.name,
    label: f.name.replace(/__c$/, ''),
    type: f.type,
    nillable: !['id', 'boolean'].includes(f.type) && !['CreatedDate', 'LastModifiedDate', 'SystemModstamp'].includes(f.name),
    custom: f.name.endsWith('__c'),
    compoundFieldName: f.compoundFieldName ?? null,
    filterable: f.type !== 'address' && f.type !== 'base64',
    sortable: f.type !== 'address' && f.type !== 'base64',
  };
}

/** An address as the REST API gives it: an object of its components. */
function compound(record: SObject, name: string, fields: FieldDef[]): Record<string, unknown> {
  const prefix = name.replace(/Address$/, '');
  const parts = fields.filter((f) => f.compoundFieldName === name);
  const out: Record<string, unknown> = { geocodeAccuracy: null };
  for (const p of parts) {
    const key = p.name.slice(prefix.length);
    out[key.charAt(0).toLowerCase() + key.slice(1)] = jsonValue(record[p.name] ?? null);
  }
  return out;
}

function instantOf(value: string): number {
  return Date.parse(value.replace(/\+0000$/, 'Z'));
}

function compare(value: Value, literal: Literal, op: NonNullable<Soql['where']>['op']): boolean {
  let c: number;
  if (literal.kind === 'datetime') c = typeof value === 'string' ? instantOf(value) - Date.parse(literal.text) : Number.NaN;
  else if (literal.kind === 'date' || literal.kind === 'text') c = typeof value === 'string' ? value.localeCompare(literal.text) : Number.NaN;
  else if (literal.kind === 'number') c = (value instanceof Decimal ? Number(value.text) : Number(value)) - literal.value;
  else if (literal.kind === 'boolean') c = value === literal.value ? 0 : Number.NaN;
  else c = value === null ? 0 : Number.NaN;
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return !(c === 0);
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function order(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return /T.*\+0000$/.test(a) ? instantOf(a) - instantOf(b) : a.localeCompare(b);
  return Number(a instanceof Decimal ? a.text : a) - Number(b instanceof Decimal ? b.text : b);
}

/** Decimals written as their text, everything else as JSON does. */
function jsonValue(value: unknown): unknown {
  return value instanceof Decimal ? new RawJson(value.text) : value;
}

class RawJson {
  constructor(readonly text: string) {}
}

/** JSON with Decimal values written digit for digit (JSON.stringify would round them). */
function stringify(value: unknown): string {
  const raw: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    const r = v instanceof Decimal ? new RawJson(v.text) : v;
    if (r instanceof RawJson) {
      raw.push(r.text);
      return `\u0000raw${raw.length - 1}\u0000`;
    }
    return r;
  });
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raw[Number(i)] as string);
}

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = stringify(value);
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** A value as the SOAP API writes it: date-times in UTC with Z, numbers and booleans as text. */
function soapValue(value: Value, type: FieldType | undefined): string {
  if (value instanceof Decimal) return value.text;
  if (typeof value === 'string' && type === 'datetime') return value.replace(/\+0000$/, 'Z');
  return String(value);
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
