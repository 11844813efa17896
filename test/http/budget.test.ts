import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestBudget, Semaphore, TokenBucket } from '../../src/http/budget.js';
import { createHttpClient, type HttpClient } from '../../src/http/client.js';
import { until } from '../helpers/wait.js';
import { manualClock, sendJson, startServer, type TestServer } from './server.js';

describe('token bucket', () => {
  it('spaces requests evenly at the declared rate', () => {
    const bucket = new TokenBucket(10, 1, 0);
    expect([bucket.reserve(0), bucket.reserve(0), bucket.reserve(0)]).toEqual([0, 100, 200]);
    // 250 ms later 2.5 tokens came back; two were already promised, so the next waits 50 ms.
    expect(bucket.reserve(250)).toBe(50);
  });

  it('allows a declared burst, then the rate', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.reserve(0), bucket.reserve(0), bucket.reserve(0), bucket.reserve(0)]).toEqual([0, 0, 0, 100]);
    expect(bucket.reserve(10_000)).toBe(0);
  });

  it('handles rates below one per second and gives back unused reservations', () => {
    const bucket = new TokenBucket(0.5, 1, 0);
    expect(bucket.reserve(0)).toBe(0);
    expect(bucket.reserve(0)).toBe(2000);
    bucket.refund();
    expect(bucket.reserve(0)).toBe(2000);
  });

  it('rejects nonsense', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow('requestsPerSecond must be greater than 0');
    expect(() => new Semaphore(0)).toThrow('maxConcurrentPerHost must be at least 1');
  });
});

describe('semaphore', () => {
  it('queues beyond the limit in order and hands slots over', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    await sem.acquire();
    await sem.acquire();
    const third = sem.acquire().then(() => order.push(3));
    const fourth = sem.acquire().then(() => order.push(4));
    expect([sem.inUse, sem.waiting]).toEqual([2, 2]);
    sem.release();
    await third;
    expect(order).toEqual([3]);
    expect([sem.inUse, sem.waiting]).toEqual([2, 1]);
    sem.release();
    await fourth;
    expect(order).toEqual([3, 4]);
  });

  it('drops an aborted waiter from the queue', async () => {
    const sem = new Semaphore(1);
    await sem.acquire();
    const controller = new AbortController();
    const waiting = sem.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(sem.waiting).toBe(0);
    sem.release();
    expect(sem.inUse).toBe(0);
  });
});

describe('request budget with an injected clock', () => {
  it('waits for rate tokens while holding the concurrency slot', async () => {
    let now = 0;
    const waits: number[] = [];
    const budget = new RequestBudget({ requestsPerSecond: 5, maxConcurrentPerHost: 1 }, () => now, (ms) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    });
    for (let i = 0; i < 4; i++) {
      await budget.acquire('api.example.com');
      expect(budget.inFlight('api.example.com')).toBe(1);
      budget.release('api.example.com');
    }
    expect(waits).toEqual([200, 200, 200]);
    expect(now).toBe(600);
    expect(budget.inFlight('api.example.com')).toBe(0);
  });

  it('keeps the limit of an endpoint besides the overall one', async () => {
    let now = 0;
    const waits: number[] = [];
    const budget = new RequestBudget(
      { requestsPerSecond: 10, endpoints: [{ path: '/crm/v3/objects/*/search', requestsPerSecond: 2 }] },
      () => now,
      (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
    );
    const host = 'api.example.com';
    const call = async (path: string): Promise<void> => {
      await budget.acquire(host, undefined, path);
      budget.release(host, path);
    };
    // Searches (of any object type) wait 500 ms for each other; other paths 100 ms at most.
    await call('/crm/v3/objects/contacts/search');
    await call('/crm/v3/objects/companies/search');
    expect(waits).toEqual([500]);
    await call('/crm/v3/objects/contacts');
    await call('/crm/v3/objects/contacts/search');
    expect(waits).toEqual([500, 500]);
    // Only the overall limit: the search segment must be the last (a longer path is another endpoint).
    await call('/crm/v3/objects/contacts/search/more');
    await call('/crm/v3/objects/contacts/search/more');
    expect(waits).toEqual([500, 500, 100]);
  });

  it('caps concurrency per endpoint and gives slots back on release', async () => {
    const budget = new RequestBudget({ endpoints: [{ path: '/export', maxConcurrent: 1 }] }, () => 0, () => Promise.resolve());
    await budget.acquire('h', undefined, '/v1/export');
    let second = false;
    const waiting = budget.acquire('h', undefined, '/v1/export').then(() => (second = true));
    await budget.acquire('h', undefined, '/v1/items');
    await Promise.resolve();
    expect(second).toBe(false);
    budget.release('h', '/v1/export');
    await waiting;
    expect(second).toBe(true);
  });

  it('counts concurrency per host', async () => {
    const budget = new RequestBudget({ maxConcurrentPerHost: 1 }, () => 0, () => Promise.resolve());
    await budget.acquire('a.example.com');
    await budget.acquire('b.example.com');
    expect([budget.inFlight('a.example.com'), budget.inFlight('b.example.com')]).toEqual([1, 1]);
  });
});

describe('budget on real requests', () => {
  let server: TestServer | undefined;
  let client: HttpClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
  });

  it('never has more requests in flight per host than declared', async () => {
    // The server answers only when the test says, so requests overlap however slow the machine.
    const held: ServerResponse[] = [];
    let maxInFlight = 0;
    server = await startServer((_q, res) => {
      held.push(res);
      maxInFlight = Math.max(maxInFlight, held.length);
    });
    client = createHttpClient({ baseUrl: server.url, budget: { maxConcurrentPerHost: 2 } });
    const c = client;
    const all = Promise.all(Array.from({ length: 8 }, (_, i) => c.request({ path: `/item/${i}` })));
    // Each answer frees one slot: wait until the slots are taken again, then answer the oldest.
    for (let answered = 0; answered < 8; answered++) {
      await until(() => held.length >= Math.min(2, 8 - answered), `${Math.min(2, 8 - answered)} requests held`);
      const oldest = held.shift();
      if (oldest) sendJson(oldest, 200, {});
    }
    await all;
    expect(server.seen).toHaveLength(8);
    expect(maxInFlight).toBe(2);
  });

  it('starts requests no faster than the declared rate', async () => {
    server = await startServer((_q, res) => sendJson(res, 200, {}));
    // The client's clock moves only when the test moves it: each start is held to its time exactly.
    const clock = manualClock();
    client = createHttpClient({ baseUrl: server.url, budget: { requestsPerSecond: 20 }, now: clock.now, sleep: clock.sleep });
    const c = client;
    const all = Promise.all(Array.from({ length: 6 }, () => c.request({ path: '/x' })));
    // At 20/s the first starts at once and the other five wait for their tokens, 50 ms apart.
    const seen = server.seen;
    await until(() => seen.length === 1 && clock.pending().length === 5, 'one start and five waits');
    expect(clock.pending()).toEqual([50, 100, 150, 200, 250]);
    for (const [i, due] of [50, 100, 150, 200, 250].entries()) {
      // A millisecond early, nothing more may start.
      clock.advanceTo(due - 1);
      expect(clock.pending()).toHaveLength(5 - i);
      expect(seen).toHaveLength(1 + i);
      clock.advanceTo(due);
      await until(() => seen.length === 2 + i, `start ${2 + i}`);
    }
    await all;
    expect(seen).toHaveLength(6);
  });

  it('lets an abort free a request waiting for a slot', async () => {
    const controller = new AbortController();
    server = await startServer(() => {
      // holds the only slot
    });
    client = createHttpClient({ baseUrl: server.url, budget: { maxConcurrentPerHost: 1 }, signal: controller.signal });
    const first = client.request({ path: '/hang' }).catch((e: unknown) => e);
    const second = client.request({ path: '/queued' }).catch((e: unknown) => e);
    const seen = server.seen;
    await until(() => seen.length > 0, 'the first request');
    // The second waits for the slot the first holds.
    expect(seen.map((r) => r.url)).toEqual(['/hang']);
    controller.abort();
    expect(((await first) as Error).name).toBe('AbortError');
    expect(((await second) as Error).name).toBe('AbortError');
    expect(server.seen).toHaveLength(1);
  });
});
