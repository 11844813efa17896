import type { ServerResponse } from 'node:http';
import { ShopifyEventsHeader, ShopifyHeader } from '@shopify/shopify-api';
import { getHmac } from '@shopify/shopify-api/test-helpers';
import { sendJson, startServer, type SeenRequest, type TestServer } from '../http/server.js';

/**
 * A Shopify store, modelled from Shopify's documentation (not from what the connector sends):
 *
 * - GraphQL Admin API: `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`
 *   (401 `{"errors": "[API] Invalid API key or access token …"}` otherwise). Every other answer
 *   is 200: failures are an `errors` array; a field the schema does not have is
 *   `Field 'x' doesn't exist on type 'T'` (code undefinedField).
 * - Connections `orders`, `customers`, `products`: `first` (at most 250), `after`, `query`
 *   (search syntax, here `updated_at:>='<time>'`), `sortKey: UPDATED_AT`; `nodes` or
 *   `edges { node }`, `pageInfo { hasNextPage endCursor }`. Ids are gids
 *   (`gid://shopify/Order/<n>`), times UTC, amounts Decimal text (`10.0`), enums upper case.
 * - Cost: each query's `extensions.cost` (`requestedQueryCost`, `throttleStatus` with
 *   `maximumAvailable`, `currentlyAvailable`, `restoreRate`); a query the bucket cannot pay is
 *   refused with `THROTTLED`, one over 1,000 points with `MAX_COST_EXCEEDED`.
 * - Bulk operations: `bulkOperationRunQuery(query:, groupObjects:)` answers a BulkOperation
 *   (CREATED); `node(id:)` reports RUNNING, then COMPLETED with a `url` to a JSONL file (one
 *   object per line, nested connection items on their own lines after their parent, with
 *   `__parentId`), or FAILED with an `errorCode`. The file is served by a storage host that
 *   wants no token (here the same server, under /storage/, signed in the query).
 * - Webhooks: the object in the REST shape (snake_case, numeric ids, `admin_graphql_api_id`,
 *   amounts `10.00`, times in the shop's offset, tags comma-separated), headers
 *   `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the body with the app's
 *   client secret), `X-Shopify-Event-Id`, `X-Shopify-Webhook-Id`, `X-Shopify-Triggered-At`;
 *   a delete topic's body is `{"id": <n>}`. Newer "Events" deliveries carry the same headers
 *   without `X-` (`Shopify-Topic`, `Shopify-Hmac-Sha256`, `Shopify-Event-Id`…): the names
 *   come from the SDK's `ShopifyHeader` and `ShopifyEventsHeader`.
 */

export interface LineItem {
  id: bigint;
  name: string;
  title: string;
  quantity: number;
  sku: string | null;
  variantTitle: string | null;
  vendor: string | null;
  price: string;
  productId: bigint | null;
  variantId: bigint | null;
}

export interface Order {
  id: bigint;
  name: string;
  email: string | null;
  createdAt: string;
  updatedAt: string;
  processedAt: string;
  cancelledAt: string | null;
  closedAt: string | null;
  currency: string;
  total: string;
  subtotal: string;
  tax: string;
  discounts: string;
  financial: 'PENDING' | 'AUTHORIZED' | 'PAID' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'VOIDED';
  fulfillment: 'UNFULFILLED' | 'PARTIALLY_FULFILLED' | 'FULFILLED';
  customerId: bigint | null;
  tags: string[];
  note: string | null;
  test: boolean;
  lineItems: LineItem[];
}

export interface Customer {
  id: bigint;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  state: 'DISABLED' | 'INVITED' | 'ENABLED' | 'DECLINED';
  verifiedEmail: boolean;
  tags: string[];
  note: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Variant {
  id: bigint;
  title: string;
  sku: string | null;
  price: string;
  compareAtPrice: string | null;
  barcode: string | null;
  position: number;
  inventoryQuantity: number;
  taxable: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Product {
  id: bigint;
  title: string;
  handle: string;
  vendor: string;
  productType: string;
  status: 'ACTIVE' | 'ARCHIVED' | 'DRAFT';
  tags: string[];
  descriptionHtml: string;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  variants: Variant[];
}

type Root = 'orders' | 'customers' | 'products';

export interface Webhook {
  topic: string;
  body: string;
  headers: Record<string, string>;
}

interface BulkOperation {
  id: string;
  root: Root;
  since: string | undefined;
  polls: number;
  grouped: boolean;
}

/** Field names the documented types have (Order, LineItem, Customer, Product, ProductVariant, MoneyBag, MoneyV2, PageInfo, BulkOperation, connections). */
const KNOWN_FIELDS = new Set(
  (
    'query mutation on ID Int String Boolean orders customers products node nodes edges node pageInfo hasNextPage endCursor ' +
    'id name email createdAt updatedAt processedAt cancelledAt closedAt currencyCode totalPriceSet subtotalPriceSet totalTaxSet totalDiscountsSet ' +
    'shopMoney presentmentMoney amount displayFinancialStatus displayFulfillmentStatus customer tags note test lineItems ' +
    'title quantity sku variantTitle vendor originalUnitPriceSet product variant ' +
    'firstName lastName defaultEmailAddress emailAddress defaultPhoneNumber phoneNumber state verifiedEmail ' +
    'handle productType status descriptionHtml publishedAt variants price compareAtPrice barcode position inventoryQuantity taxable ' +
    'bulkOperationRunQuery bulkOperation userErrors field message errorCode objectCount url partialDataUrl BulkOperation'
  ).split(' '),
);

export class ShopifyModel {
  server!: TestServer;
  readonly orders: Order[] = [];
  readonly customers: Customer[] = [];
  readonly products: Product[] = [];
  /** The `query` search string of each paged request, by connection. */
  readonly searches: Array<{ root: Root; query: string | null }> = [];
  /** Bulk queries started, as sent. */
  readonly bulkQueries: string[] = [];
  /** Answers refused with THROTTLED. */
  throttled = 0;
  /** The cost bucket; `available` may be set low to stand for another app's queries. */
  readonly bucket = { max: 2000, available: 2000, restoreRate: 1000, at: Date.now() };
  /** The next this many queries find the bucket emptied by another app's queries just before. */
  drainedBy = 0;
  /** The next bulk operation ends so instead of COMPLETED. */
  failBulk: { status: 'FAILED' | 'CANCELED'; errorCode: string | null } | undefined;
  /** Polls a bulk operation takes to complete. */
  bulkPolls = 2;
  /** Requests to the storage host that carried the Admin API token. */
  tokenSentToStorage = 0;
  private readonly operations = new Map<string, BulkOperation>();
  private seconds = 0;
  private nextId = 5_678_901_234_500n;
  private events = 0;
  private version = '';

  constructor(
    readonly token: string,
    readonly clientSecret: string,
  ) {}

  async start(): Promise<this> {
    this.server = await startServer((req, res, seen) => this.handle(seen, res));
    return this;
  }

  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** The model's clock: each change one second after the one before. */
  tick(): string {
    return new Date(Date.UTC(2026, 0, 10) + ++this.seconds * 1000).toISOString().replace('.000Z', 'Z');
  }

  id(): bigint {
    // Ids as live shops have them today (13 digits); documentation examples run to 18.
    this.nextId += 7n;
    return this.nextId;
  }

  addCustomer(first: string, last: string, email: string): Customer {
    const at = this.tick();
    const customer: Customer = {
      id: this.id(),
      firstName: first,
      lastName: last,
      email,
      phone: null,
      state: 'ENABLED',
      verifiedEmail: true,
      tags: ['vip', 'newsletter'],
      note: null,
      createdAt: at,
      updatedAt: at,
    };
    this.customers.push(customer);
    return customer;
  }

  addProduct(title: string, prices: string[]): Product {
    const at = this.tick();
    const product: Product = {
      id: this.id(),
      title,
      handle: title.toLowerCase().replace(/\W+/g, '-'),
      vendor: 'Acme',
      productType: 'Widget',
      status: 'ACTIVE',
      tags: ['summer'],
      descriptionHtml: `<p>${title}</p>`,
      createdAt: at,
      updatedAt: at,
      publishedAt: at,
      variants: [],
    };
    product.variants = prices.map((price, i) => ({
      id: this.id(),
      title: `Size ${i + 1}`,
      sku: `${product.handle}-${i + 1}`,
      price,
      compareAtPrice: i === 0 ? null : '99.90',
      barcode: null,
      position: i + 1,
      inventoryQuantity: 10 * (i + 1),
      taxable: true,
      createdAt: at,
      updatedAt: at,
    }));
    this.products.push(product);
    return product;
  }

  addOrder(customer: Customer | null, items: Array<{ product: Product; variant: number; quantity: number }>): Order {
    const at = this.tick();
    const lineItems: LineItem[] = items.map(({ product, variant, quantity }) => {
      const v = product.variants[variant] as Variant;
      return {
        id: this.id(),
        name: `${product.title} - ${v.title}`,
        title: product.title,
        quantity,
        sku: v.sku,
        variantTitle: v.title,
        vendor: product.vendor,
        price: v.price,
        productId: product.id,
        variantId: v.id,
      };
    });
    const subtotal = lineItems.reduce((sum, li) => sum + cents(li.price) * li.quantity, 0);
    const order: Order = {
      id: this.id(),
      name: `#${1001 + this.orders.length}`,
      email: customer?.email ?? null,
      createdAt: at,
      updatedAt: at,
      processedAt: at,
      cancelledAt: null,
      closedAt: null,
      currency: 'USD',
      total: fromCents(subtotal + 500),
      subtotal: fromCents(subtotal),
      tax: '5.00',
      discounts: '0.00',
      financial: 'PAID',
      fulfillment: 'UNFULFILLED',
      customerId: customer?.id ?? null,
      tags: [],
      note: null,
      test: false,
      lineItems,
    };
    this.orders.push(order);
    return order;
  }

  /** Changes an object (its updated_at moves on). */
  touch<T extends { updatedAt: string }>(object: T, change: Partial<T>): T {
    Object.assign(object, change, { updatedAt: this.tick() });
    return object;
  }

  // --- Webhooks ---------------------------------------------------------------------------

  /** The delivery Shopify sends for a create or update of an object, in the REST shape. */
  webhook(topic: string, object: Order | Customer | Product): Webhook {
    const root = topic.split('/')[0] as Root;
    const payload = root === 'orders' ? restOrder(object as Order) : root === 'customers' ? restCustomer(object as Customer) : restProduct(object as Product);
    return this.sign(topic, restJson(payload), object.updatedAt);
  }

  /** The delivery of a delete topic: only the id. */
  deletion(topic: string, id: bigint, at = this.tick()): Webhook {
    return this.sign(topic, restJson({ id }), at);
  }

  /** The same delivery as an "Events" subscription sends it: every Shopify header without `X-`. */
  asEventsDelivery(hook: Webhook): Webhook {
    const names = Object.keys(ShopifyEventsHeader) as Array<keyof typeof ShopifyEventsHeader>;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const name of names) {
      const legacy = (ShopifyHeader as Record<string, string | undefined>)[name]?.toLowerCase();
      const value = legacy === undefined ? undefined : hook.headers[legacy];
      if (value !== undefined) headers[ShopifyEventsHeader[name]] = name === 'Hmac' ? getHmac(hook.body, this.clientSecret) : value;
    }
    return { ...hook, headers };
  }

  private sign(topic: string, body: string, triggeredAt: string): Webhook {
    const n = ++this.events;
    const header = (name: ShopifyHeader): string => name.toLowerCase();
    return {
      topic,
      body,
      headers: {
        'content-type': 'application/json',
        [header(ShopifyHeader.Topic)]: topic,
        [header(ShopifyHeader.Hmac)]: getHmac(body, this.clientSecret),
        [header(ShopifyHeader.Domain)]: 'acme.myshopify.com',
        [header(ShopifyHeader.ApiVersion)]: '2026-04',
        [header(ShopifyHeader.WebhookId)]: `b54557e4-bdd9-4b37-8a5f-${String(n).padStart(12, '0')}`,
        [header(ShopifyHeader.EventId)]: `98880550-7158-44d4-b7cd-${String(n).padStart(12, '0')}`,
        [header(ShopifyHeader.TriggeredAt)]: `${triggeredAt.slice(0, 19)}.000Z`,
      },
    };
  }

  // --- The Admin API ----------------------------------------------------------------------

  private handle(seen: SeenRequest, res: ServerResponse): void {
    const url = new URL(seen.url, 'http://model');
    if (url.pathname.startsWith('/storage/')) return this.serveFile(seen, url, res);
    if (seen.method !== 'POST' || !/^\/admin\/api\/(\d{4}-\d{2}|unstable)\/graphql\.json$/.test(url.pathname)) return sendJson(res, 404, { errors: 'Not Found' });
    if (seen.headers['x-shopify-access-token'] !== this.token) {
      return sendJson(res, 401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    const { query, variables = {} } = JSON.parse(seen.body) as { query: string; variables?: Record<string, unknown> };
    const version = /\/admin\/api\/([^/]+)\//.exec(url.pathname)?.[1] ?? '';
    this.version = version;
    const unknown = unknownField(query, version);
    if (unknown !== undefined) {
      return this.answer(res, { errors: [{ message: `Field '${unknown}' doesn't exist on type 'QueryRoot'`, locations: [{ line: 1, column: 1 }], extensions: { code: 'undefinedField', typeName: 'QueryRoot', fieldName: unknown } }] }, 0, 1);
    }
    const cost = queryCost(query, variables);
    if (cost > 1000) return this.answer(res, { errors: [{ message: `Query cost is ${cost}, which exceeds the single query max cost limit (1000).`, extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost: 1000 } }] }, cost, 0);
    const b = this.bucket;
    b.available = Math.min(b.max, b.available + ((Date.now() - b.at) / 1000) * b.restoreRate);
    b.at = Date.now();
    if (this.drainedBy > 0) {
      this.drainedBy--;
      b.available = 0;
    }
    if (b.available < cost) {
      this.throttled++;
      return this.answer(res, { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }] }, cost, 0);
    }
    b.available -= cost;
    if (/\bbulkOperationRunQuery\b/.test(query)) return this.answer(res, { data: { bulkOperationRunQuery: this.runBulk(String(variables['query']), /groupObjects:\s*true/.test(query)) } }, cost, cost);
    if (/\bnode\s*\(/.test(query)) return this.answer(res, { data: { node: this.pollBulk(String(variables['id'])) } }, cost, cost);
    const root = /\b(orders|customers|products)\s*\(/.exec(query)?.[1] as Root | undefined;
    if (root === undefined) return this.answer(res, { errors: [{ message: 'The model knows no such query' }] }, cost, 0);
    const search = typeof variables['query'] === 'string' ? variables['query'] : null;
    this.searches.push({ root, query: search });
    const first = Math.min(Number(variables['first'] ?? 50), 250);
    const after = typeof variables['after'] === 'string' ? Number(Buffer.from(variables['after'], 'base64').toString('utf8')) : 0;
    const matching = this.matching(root, search ?? undefined);
    const page = matching.slice(after, after + first);
    const end = after + page.length;
    const nestedFirst = Number(/(?:lineItems|variants)\(first:\s*(\d+)\)/.exec(query)?.[1] ?? 0);
    const nodes = page.map((o) => project(graphqlNode(root, o, nestedFirst), query));
    this.answer(res, { data: { [root]: { nodes, pageInfo: { hasNextPage: end < matching.length, endCursor: page.length ? Buffer.from(String(end)).toString('base64') : null } } } }, cost, cost);
  }

  private matching(root: Root, search: string | undefined): Array<Order | Customer | Product> {
    const since = search === undefined ? undefined : /updated_at:>=\s*'([^']+)'/.exec(search)?.[1];
    const all: Array<Order | Customer | Product> = root === 'orders' ? this.orders : root === 'customers' ? this.customers : this.products;
    return all
      .filter((o) => since === undefined || Date.parse(o.updatedAt) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt) || (a.id < b.id ? -1 : 1));
  }

  private runBulk(bulkQuery: string, grouped: boolean): unknown {
    this.bulkQueries.push(bulkQuery);
    const root = /^\s*\{\s*(orders|customers|products)\s*\(/.exec(bulkQuery)?.[1] as Root | undefined;
    if (root === undefined) return { bulkOperation: null, userErrors: [{ field: ['query'], message: 'Invalid bulk query: must have a connection at its root' }] };
    const unknown = unknownField(bulkQuery, this.version);
    if (unknown !== undefined) return { bulkOperation: null, userErrors: [{ field: ['query'], message: `Invalid bulk query: Field '${unknown}' doesn't exist on type 'QueryRoot'` }] };
    const since = /updated_at:>=\s*\\?'([^'\\]+)\\?'/.exec(bulkQuery)?.[1];
    const id = `gid://shopify/BulkOperation/${this.operations.size + 1}`;
    this.operations.set(id, { id, root, since, polls: 0, grouped });
    return { bulkOperation: { id, status: 'CREATED', errorCode: null, objectCount: '0', url: null }, userErrors: [] };
  }

  private pollBulk(id: string): unknown {
    const op = this.operations.get(id);
    if (op === undefined) return null;
    op.polls++;
    if (op.polls < this.bulkPolls) return { id, status: 'RUNNING', errorCode: null, objectCount: String(op.polls), url: null };
    if (this.failBulk) return { id, status: this.failBulk.status, errorCode: this.failBulk.errorCode, objectCount: '0', url: null };
    const count = this.matching(op.root, op.since === undefined ? undefined : `updated_at:>='${op.since}'`).length;
    const n = id.split('/').pop() as string;
    return { id, status: 'COMPLETED', errorCode: null, objectCount: String(count), url: count === 0 ? null : `${this.url}/storage/bulk-${n}.jsonl?X-Goog-Signature=f00dfeed${n}` };
  }

  /** The JSONL result: each object, then its nested items, each with `__parentId`. */
  private serveFile(seen: SeenRequest, url: URL, res: ServerResponse): void {
    if (seen.headers['x-shopify-access-token'] !== undefined) this.tokenSentToStorage++;
    const n = /^\/storage\/bulk-(\d+)\.jsonl$/.exec(url.pathname)?.[1];
    const op = n === undefined ? undefined : this.operations.get(`gid://shopify/BulkOperation/${n}`);
    if (op === undefined || url.searchParams.get('X-Goog-Signature') !== `f00dfeed${n}`) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    const parents: string[] = [];
    const children: string[] = [];
    const query = this.bulkQueries[Number(n) - 1] as string;
    const nested = op.root === 'orders' ? 'lineItems' : op.root === 'products' ? 'variants' : undefined;
    for (const object of this.matching(op.root, op.since === undefined ? undefined : `updated_at:>='${op.since}'`)) {
      // A bulk read takes nested connections whole (no `first`).
      const full = graphqlNode(op.root, object, Number.MAX_SAFE_INTEGER);
      const items = nested === undefined ? [] : (full[nested] as { nodes: Array<Record<string, unknown>> }).nodes;
      if (nested !== undefined) delete full[nested];
      const parent = project(full, query);
      const lines = items.map((item) => JSON.stringify({ ...project(item, query), __parentId: parent['id'] }));
      parents.push(JSON.stringify(parent));
      // Grouped: each object's items right after it. Ungrouped (the default since 2026-01): anywhere after it.
      if (op.grouped) parents.push(...lines);
      else children.push(...lines);
    }
    const body = [...parents, ...children].map((line) => `${line}\n`).join('');
    res.writeHead(200, { 'content-type': 'application/jsonl' });
    res.end(body);
  }

  private answer(res: ServerResponse, body: Record<string, unknown>, requested: number, actual: number): void {
    const b = this.bucket;
    sendJson(res, 200, {
      ...body,
      extensions: { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: { maximumAvailable: b.max, currentlyAvailable: Math.floor(b.available), restoreRate: b.restoreRate } } },
    });
  }
}

// --- Shapes ---------------------------------------------------------------------------------

const gid = (type: string, id: bigint | null) => (id === null ? null : `gid://shopify/${type}/${id}`);
/** GraphQL's Decimal: `10.0`, `199.5`, `12.34`. */
const decimal = (amount: string) => amount.replace(/(\.\d*?[1-9])0+$/, '$1').replace(/\.0+$/, '.0');
const moneyBag = (amount: string, currency = 'USD') => ({ shopMoney: { amount: decimal(amount), currencyCode: currency }, presentmentMoney: { amount: decimal(amount), currencyCode: currency } });

function graphqlNode(root: Root, object: Order | Customer | Product, nestedFirst: number): Record<string, unknown> {
  if (root === 'orders') {
    const o = object as Order;
    return {
      id: gid('Order', o.id), name: o.name, email: o.email, createdAt: o.createdAt, updatedAt: o.updatedAt, processedAt: o.processedAt,
      cancelledAt: o.cancelledAt, closedAt: o.closedAt, currencyCode: o.currency,
      totalPriceSet: moneyBag(o.total), subtotalPriceSet: moneyBag(o.subtotal), totalTaxSet: moneyBag(o.tax), totalDiscountsSet: moneyBag(o.discounts),
      displayFinancialStatus: o.financial, displayFulfillmentStatus: o.fulfillment, customer: o.customerId === null ? null : { id: gid('Customer', o.customerId) },
      tags: o.tags, note: o.note, test: o.test,
      lineItems: {
        nodes: o.lineItems.slice(0, nestedFirst).map((li) => ({
          id: gid('LineItem', li.id), name: li.name, title: li.title, quantity: li.quantity, sku: li.sku, variantTitle: li.variantTitle, vendor: li.vendor,
          originalUnitPriceSet: moneyBag(li.price), product: li.productId === null ? null : { id: gid('Product', li.productId) }, variant: li.variantId === null ? null : { id: gid('ProductVariant', li.variantId) },
        })),
      },
    };
  }
  if (root === 'customers') {
    const c = object as Customer;
    return {
      id: gid('Customer', c.id), firstName: c.firstName, lastName: c.lastName,
      defaultEmailAddress: c.email === null ? null : { emailAddress: c.email }, defaultPhoneNumber: c.phone === null ? null : { phoneNumber: c.phone },
      state: c.state, verifiedEmail: c.verifiedEmail, tags: c.tags, note: c.note, createdAt: c.createdAt, updatedAt: c.updatedAt,
    };
  }
  const p = object as Product;
  return {
    id: gid('Product', p.id), title: p.title, handle: p.handle, vendor: p.vendor, productType: p.productType, status: p.status, tags: p.tags,
    descriptionHtml: p.descriptionHtml, createdAt: p.createdAt, updatedAt: p.updatedAt, publishedAt: p.publishedAt,
    variants: {
      nodes: p.variants.slice(0, nestedFirst).map((v) => ({
        id: gid('ProductVariant', v.id), title: v.title, sku: v.sku, price: decimal(v.price), compareAtPrice: v.compareAtPrice === null ? null : decimal(v.compareAtPrice),
        barcode: v.barcode, position: v.position, inventoryQuantity: v.inventoryQuantity, taxable: v.taxable, createdAt: v.createdAt, updatedAt: v.updatedAt,
      })),
    },
  };
}

/** Only the fields the query names (by name, at any depth): a server answers what was asked. */
function project(value: Record<string, unknown>, query: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!new RegExp(`\\b${key}\\b`).test(query)) continue;
    if (Array.isArray(v)) out[key] = v.map((x) => (x !== null && typeof x === 'object' ? project(x as Record<string, unknown>, query) : x));
    else if (v !== null && typeof v === 'object') out[key] = project(v as Record<string, unknown>, query);
    else out[key] = v;
  }
  return out;
}

/** Fields added in a version: older versions answer that they do not exist. */
const ADDED_IN: Record<string, string> = { defaultEmailAddress: '2024-10', defaultPhoneNumber: '2024-10' };

/** A field name the schema (of that API version) does not have, outside argument lists and strings. */
function unknownField(query: string, version: string): string | undefined {
  const bare = query.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\([^()]*\)/g, '').replace(/\$\w+/g, '');
  for (const name of bare.match(/[A-Za-z_]\w*/g) ?? []) {
    const added = ADDED_IN[name];
    if (!KNOWN_FIELDS.has(name) || (added !== undefined && version !== 'unstable' && version < added)) return name;
  }
  return undefined;
}

/** Shopify's estimate: a connection costs 2 plus its page size times its objects' cost. */
function queryCost(query: string, variables: Record<string, unknown>): number {
  if (/\bbulkOperationRunQuery\b/.test(query)) return 10;
  if (/\bnode\s*\(/.test(query)) return 1;
  const first = Number(variables['first'] ?? 50);
  const nested = Number(/(?:lineItems|variants)\(first:\s*(\d+)\)/.exec(query)?.[1] ?? 0);
  return 2 + first * (1 + nested);
}

// --- The REST shape of webhooks ---------------------------------------------------------------

/** A time as the shop's zone writes it (the model's shop is at -05:00). */
function shopTime(utc: string | null): string | null {
  if (utc === null) return null;
  const local = new Date(Date.parse(utc) - 5 * 3600_000).toISOString();
  return `${local.slice(0, 19)}-05:00`;
}

function restOrder(o: Order): Record<string, unknown> {
  return {
    id: o.id, admin_graphql_api_id: gid('Order', o.id), app_id: 580111n, browser_ip: '203.0.113.7', buyer_accepts_marketing: false,
    cancel_reason: null, cancelled_at: shopTime(o.cancelledAt), closed_at: shopTime(o.closedAt), confirmed: true, contact_email: o.email,
    created_at: shopTime(o.createdAt), currency: o.currency, current_total_price: o.total, email: o.email,
    financial_status: o.financial.toLowerCase(),
    fulfillment_status: o.fulfillment === 'FULFILLED' ? 'fulfilled' : o.fulfillment === 'PARTIALLY_FULFILLED' ? 'partial' : null,
    name: o.name, note: o.note, number: Number(o.name.slice(1)) - 1000, order_number: Number(o.name.slice(1)), presentment_currency: o.currency,
    processed_at: shopTime(o.processedAt), subtotal_price: o.subtotal, tags: o.tags.join(', '), test: o.test,
    total_discounts: o.discounts, total_price: o.total, total_tax: o.tax, updated_at: shopTime(o.updatedAt),
    customer: o.customerId === null ? null : { id: o.customerId, email: o.email, admin_graphql_api_id: gid('Customer', o.customerId) },
    line_items: o.lineItems.map((li) => ({
      id: li.id, admin_graphql_api_id: gid('LineItem', li.id), fulfillable_quantity: li.quantity, fulfillment_status: null, gift_card: false, grams: 100,
      name: li.name, price: li.price, product_exists: true, product_id: li.productId, quantity: li.quantity, requires_shipping: true, sku: li.sku,
      taxable: true, title: li.title, total_discount: '0.00', variant_id: li.variantId, variant_title: li.variantTitle, vendor: li.vendor,
    })),
    shipping_lines: [],
  };
}

function restCustomer(c: Customer): Record<string, unknown> {
  return {
    id: c.id, email: c.email, created_at: shopTime(c.createdAt), updated_at: shopTime(c.updatedAt), first_name: c.firstName, last_name: c.lastName,
    state: c.state.toLowerCase(), note: c.note, verified_email: c.verifiedEmail, multipass_identifier: null, tax_exempt: false, phone: c.phone,
    currency: 'USD', tags: c.tags.join(', '), addresses: [], tax_exemptions: [], admin_graphql_api_id: gid('Customer', c.id), default_address: null,
  };
}

function restProduct(p: Product): Record<string, unknown> {
  return {
    admin_graphql_api_id: gid('Product', p.id), body_html: p.descriptionHtml, created_at: shopTime(p.createdAt), handle: p.handle, id: p.id,
    product_type: p.productType, published_at: shopTime(p.publishedAt), template_suffix: null, title: p.title, updated_at: shopTime(p.updatedAt),
    vendor: p.vendor, status: p.status.toLowerCase(), published_scope: 'web', tags: p.tags.join(', '),
    variants: p.variants.map((v) => ({
      admin_graphql_api_id: gid('ProductVariant', v.id), barcode: v.barcode, compare_at_price: v.compareAtPrice, created_at: shopTime(v.createdAt),
      id: v.id, inventory_policy: 'deny', position: v.position, price: v.price, product_id: p.id, sku: v.sku, taxable: v.taxable, title: v.title,
      updated_at: shopTime(v.updatedAt), option1: v.title, option2: null, option3: null, image_id: null, inventory_item_id: v.id + 1n,
      inventory_quantity: v.inventoryQuantity, old_inventory_quantity: v.inventoryQuantity,
    })),
    options: [], images: [], image: null,
  };
}

/** JSON with ids written as the exact integers Shopify sends (beyond 2^53). */
function restJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `\u0000${v}` : v)).replace(/"\\u0000(\d+)"/g, '$1');
}

const cents = (amount: string) => Math.round(Number(amount) * 100);
const fromCents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
