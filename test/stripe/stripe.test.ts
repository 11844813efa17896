import { join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { readRows, writeConfig } from '../helpers/files.js';
import { startStripe, type StripeModel, type StripeObject } from './model.js';

/** `sync run stripe` and `sync listen stripe` against the local model of Stripe's API. */

const KEY = 'sk_test_51StripeModelKey0000000000';
const WEBHOOK_SECRET = 'whsec_stripe_model_4711';
const STREAMS = ['charges', 'customers', 'invoices', 'prices', 'products', 'subscriptions'];

let tmp: ReturnType<typeof tempDir>;
let model: StripeModel;
let ann: StripeObject;
let mug: StripeObject;
let price: StripeObject;
let active: StripeObject;
let ended: StripeObject;
let invoice: StripeObject;
beforeEach(async () => {
  tmp = tempDir('sync-stripe-');
  model = await startStripe(KEY);
  ann = model.create('customer', { email: 'ann@example.com', name: 'Ann Lee' });
  const bob = model.create('customer', { email: 'bob@example.com' });
  mug = model.create('product', { name: 'Mug' });
  price = model.create('price', { product: mug.id, unit_amount: 1200 });
  active = model.create('subscription', { customer: ann.id });
  ended = model.create('subscription', { customer: bob.id });
  model.remove(ended.id);
  invoice = model.create('invoice', { customer: ann.id, subscription: active.id, amount_due: 1200, total: 1200, status: 'open' });
  model.create('charge', { customer: ann.id, amount: 1200 });
});
afterEach(async () => {
  await model.close();
  tmp.cleanup();
});

const config = (extra: object = {}): string => writeConfig(tmp.dir, 'stripe', { api_key: KEY, base_url: model.url, webhook_secret: WEBHOOK_SECRET, ...extra });
const run = (extra: object = {}) => runSync(['run', 'stripe', '--config', config(extra), '--target', `sqlite:${join(tmp.dir, 'stripe.db')}`], { cwd: tmp.dir });
const rows = (sql: string): Array<Record<string, unknown>> => readRows(join(tmp.dir, 'stripe.db'), sql);
const paths = (): string[] => model.server.seen.map((r) => new URL(r.url, 'http://x').pathname);

describe('sync run stripe', () => {
  it('lists every stream first, canceled subscriptions included, then reads only the events since', async () => {
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain(KEY);
    expect(new Set(paths())).toEqual(new Set(STREAMS.map((s) => `/v1/${s}`)));
    expect(model.server.seen.find((r) => r.url.startsWith('/v1/subscriptions'))?.url).toContain('status=all');
    for (const stream of STREAMS) expect(rows(`SELECT count(*) AS n FROM ${stream}`)[0]?.['n'], stream).toBeGreaterThan(0);
    expect(rows('SELECT id, status FROM subscriptions ORDER BY id')).toEqual([
      { id: active.id, status: 'active' },
      { id: ended.id, status: 'canceled' },
    ]);
    expect(rows(`SELECT email, name FROM customers WHERE id = '${ann.id}'`)).toEqual([{ email: 'ann@example.com', name: 'Ann Lee' }]);

    model.update(ann.id, { email: 'ann@new.example.com' });
    // An event under customer.* whose object is not a customer: not a row of customers.
    model.record('customer.discount.created', { id: 'di_1', object: 'discount', created: model.now() } as unknown as StripeObject);
    model.remove(price.id);
    model.remove(active.id);
    model.update(invoice.id, { status: 'paid', amount_paid: 1200 }, 'invoice.paid');
    const later = model.create('charge', { customer: ann.id, amount: 500 });
    model.server.seen.length = 0;

    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(paths()).toEqual(STREAMS.map(() => '/v1/events'));
    expect(rows(`SELECT email FROM customers WHERE id = '${ann.id}'`)).toEqual([{ email: 'ann@new.example.com' }]);
    expect(rows("SELECT count(*) AS n FROM customers WHERE id = 'di_1'")).toEqual([{ n: 0 }]);
    expect(rows(`SELECT unit_amount, _sdc_deleted_at IS NOT NULL AS deleted FROM prices WHERE id = '${price.id}'`)).toEqual([{ unit_amount: 1200, deleted: 1 }]);
    // Canceling a subscription changes it; it is not deleted.
    expect(rows(`SELECT status FROM subscriptions WHERE id = '${active.id}'`)).toEqual([{ status: 'canceled' }]);
    expect(rows("SELECT name FROM pragma_table_info('subscriptions') WHERE name = '_sdc_deleted_at'")).toEqual([]);
    expect(rows(`SELECT status, amount_paid FROM invoices WHERE id = '${invoice.id}'`)).toEqual([{ status: 'paid', amount_paid: 1200 }]);
    expect(rows(`SELECT amount FROM charges WHERE id = '${later.id}'`)).toEqual([{ amount: 500 }]);
  });

  it('rides out rate limiting: 429s are waited out and nothing is lost', async () => {
    model.ratePerSecond = 2;
    const result = await run({ requests_per_second: 100 });
    expect(result.code, result.stderr).toBe(0);
    expect(model.throttled).toBeGreaterThan(0);
    expect(rows('SELECT count(*) AS n FROM customers')).toEqual([{ n: 2 }]);
    expect(rows('SELECT count(*) AS n FROM charges')).toEqual([{ n: 1 }]);
  });

  it('a wrong key stops the run with Stripe\'s message and without the key', async () => {
    const result = await runSync(['run', 'stripe', '--config', config({ api_key: 'sk_test_wrongwrongwrong' }), '--target', `sqlite:${join(tmp.dir, 'stripe.db')}`], { cwd: tmp.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('401');
    expect(result.stderr).not.toContain('sk_test_wrongwrongwrong');
  });
});

describe('sync listen stripe', () => {
  it('writes the row a batch read of the same event writes, and refuses a wrong signature', async () => {
    expect((await run()).code).toBe(0);
    const event = model.update(ann.id, { name: 'Ann Lee-Ray', metadata: { tier: 'gold' } });
    const { child, url, done } = await startListen(['stripe', '--config', config(), '--target', `sqlite:${join(tmp.dir, 'hooks.db')}`], { cwd: tmp.dir });
    const payload = JSON.stringify(event);
    const post = async (signature: string): Promise<number> => {
      const answer = await fetch(`${url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
      await answer.arrayBuffer();
      return answer.status;
    };
    expect(await post(new Stripe(KEY).webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' }))).toBe(401);
    expect(await post(new Stripe(KEY).webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }))).toBe(200);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect((await run()).code).toBe(0);
    const fromHook = readRows(join(tmp.dir, 'hooks.db'), `SELECT * FROM customers WHERE id = '${ann.id}'`)[0];
    const fromBatch = rows(`SELECT * FROM customers WHERE id = '${ann.id}'`)[0];
    expect(fromHook).toMatchObject({ name: 'Ann Lee-Ray', metadata: '{"tier":"gold"}' });
    const comparable = (row: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(row ?? {}).filter(([k]) => !k.startsWith('_sync_run')));
    expect(comparable(fromHook)).toEqual(comparable(fromBatch));
  });
});
