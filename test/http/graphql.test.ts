import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../src/http/client.js';
import { CostBucket, costStatus, graphqlCheck } from '../../src/http/graphql.js';
import { withParam } from '../../src/http/params.js';
import { sendJson, startServer, type TestServer } from './server.js';

/**
 * A GraphQL API with a cost bucket, as GraphQL admin APIs document it: every answer is 200;
 * failures are an `errors` array; a query costs points from a bucket that refills at a fixed
 * rate, its state in `extensions.cost`; a query the bucket cannot pay is refused with
 * `extensions.code` THROTTLED. Time is virtual: the client's waits advance the model's clock.
 */

let server: TestServer | undefined;
let client: HttpClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

interface Bucket {
  max: number;
  rate: number;
  available: number;
  at: number;
}

function costModel(clock: { now: number }, bucket: Bucket, queryCost: number) {
  let throttled = 0;
  const answer = (res: ServerResponse, body: Record<string, unknown>, cost: number) => {
    sendJson(res, 200, {
      ...body,
      extensions: { cost: { requestedQueryCost: queryCost, actualQueryCost: cost, throttleStatus: { maximumAvailable: bucket.max, currentlyAvailable: bucket.available, restoreRate: bucket.rate } } },
    });
  };
  return {
    throttled: () => throttled,
    handle(res: ServerResponse, data: unknown) {
      bucket.available = Math.min(bucket.max, bucket.available + ((clock.now - bucket.at) / 1000) * bucket.rate);
      bucket.at = clock.now;
      if (bucket.available < queryCost) {
        throttled++;
        answer(res, { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }] }, 0);
        return;
      }
      bucket.available -= queryCost;
      answer(res, { data }, queryCost);
    },
  };
}

function virtualTime() {
  const clock = { now: 1_000_000 };
  const waits: number[] = [];
  const sleep = (ms: number) => {
    waits.push(ms);
    clock.now += ms;
    return Promise.resolve();
  };
  return { clock, waits, sleep, now: () => clock.now };
}

const query = { method: 'POST' as const, path: '/graphql.json', body: { query: '{ shop { name } }' }, expectJson: true };

describe('GraphQL errors in a 200 body', () => {
  it('fail the request, named by their messages, without a retry', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { data: null, errors: [{ message: "Field 'nope' doesn't exist on type 'QueryRoot'", extensions: { code: 'undefinedField' } }] }));
    client = createHttpClient({ baseUrl: server.url, retry: { maxAttempts: 3 } });
    await expect(client.request({ ...query, check: graphqlCheck({ retriableCodes: ['THROTTLED'] }) })).rejects.toThrow(
      /GraphQL errors: Field 'nope' doesn't exist on type 'QueryRoot' \(undefinedField\)/,
    );
    expect(server.seen).toHaveLength(1);
  });

  it('THROTTLED is retried after the wait the bucket needs to pay for the query', async () => {
    const time = virtualTime();
    const bucket = { max: 1000, rate: 50, available: 10, at: time.clock.now };
    const model = costModel(time.clock, bucket, 110);
    server = await startServer((_req, res) => model.handle(res, { shop: { name: 'S' } }));
    client = createHttpClient({ baseUrl: server.url, sleep: time.sleep, now: time.now });
    const response = await client.request({ ...query, check: graphqlCheck({ retriableCodes: ['THROTTLED'] }) });
    expect(response.json()).toMatchObject({ data: { shop: { name: 'S' } } });
    expect(model.throttled()).toBe(1);
    // 100 points missing at 50 a second.
    expect(time.waits).toEqual([2000]);
  });

  it('a body without errors passes, and the cost is read from extensions', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { data: { x: 1 }, extensions: { cost: { requestedQueryCost: 12, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1988, restoreRate: 100 } } } }));
    client = createHttpClient({ baseUrl: server.url });
    const response = await client.request({ ...query, check: graphqlCheck() });
    expect(costStatus(response.json())).toEqual({ requested: 12, available: 1988, maximum: 2000, restoreRate: 100 });
  });
});

describe('CostBucket', () => {
  it('paces queries so the server never has to refuse one', async () => {
    const time = virtualTime();
    const bucket = { max: 100, rate: 10, available: 100, at: time.clock.now };
    const model = costModel(time.clock, bucket, 40);
    server = await startServer((_req, res) => model.handle(res, { page: true }));
    const pacer = new CostBucket(time.now, time.sleep);
    client = createHttpClient({ baseUrl: server.url, sleep: time.sleep, now: time.now, pacer });
    for (let i = 0; i < 6; i++) await client.request({ ...query, check: graphqlCheck({ retriableCodes: ['THROTTLED'] }) });
    expect(model.throttled()).toBe(0);
    // 100 points pay for two queries; each later one waits for the 20 points it lacks (2 s at 10/s), then 4 s.
    expect(time.waits.reduce((a, b) => a + b, 0)).toBe(2000 + 4000 + 4000 + 4000);
  });

  it('an abort while waiting rejects, and the next caller still gets its turn', async () => {
    const pacer = new CostBucket(
      () => 0,
      (_ms, signal) => (signal?.aborted ? Promise.reject(new Error('aborted')) : Promise.resolve()),
    );
    pacer.afterResponse({ status: 200, headers: {}, url: '', body: Buffer.alloc(0), text: () => '', json: () => ({ extensions: { cost: { requestedQueryCost: 50, throttleStatus: { maximumAvailable: 100, currentlyAvailable: 0, restoreRate: 10 } } } }) });
    const aborted = new AbortController();
    aborted.abort();
    await expect(pacer.beforeRequest(aborted.signal)).rejects.toThrow(/aborted/);
    await expect(pacer.beforeRequest()).resolves.toBeUndefined();
  });
});

describe('withParam into a JSON body', () => {
  it('follows a dotted path, copying the objects on the way', () => {
    const base = { path: '/graphql', body: { query: 'q', variables: { first: 50 } } };
    const next = withParam(base, 'body', 'variables.after', 'abc');
    expect(next.body).toEqual({ query: 'q', variables: { first: 50, after: 'abc' } });
    expect(base.body.variables).toEqual({ first: 50 });
  });
});

describe('a body without the records path', () => {
  it('is an error quoting the body, not an empty page, unless the records are optional', async () => {
    const { paginate } = await import('../../src/http/paginate.js');
    server = await startServer((_req, res) => sendJson(res, 200, { errors: [{ message: 'Internal error' }] }));
    client = createHttpClient({ baseUrl: server.url });
    const pages = async (optional: boolean) => {
      const out = [];
      for await (const page of paginate(client as HttpClient, { path: '/items' }, { type: 'none' }, { stream: 'items', recordsPath: 'data', recordsOptional: optional })) out.push(page.records);
      return out;
    };
    await expect(pages(false)).rejects.toThrow(/stream items: "data" holds no records \(got nothing\) in a body starting "\{\\"errors\\":\[\{\\"message\\":\\"Internal error/);
    expect(await pages(true)).toEqual([[]]);
  });
});
