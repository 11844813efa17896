// Load generator for figure 5, run in its own process: autocannon POSTs Standard Webhooks
// signed `customers.created` deliveries of the sample shop, each with a fresh webhook-id and
// customer id, to URL/webhooks/sample, signed in advance. Prints one JSON line with counts and latencies.
// Usage: node load-listen.mjs URL CONNECTIONS SECONDS (secret in SYNC_SAMPLE_WEBHOOK_SECRET)
import { createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import sample from '../../dist/connectors/sample/index.js';
import { eachRecord } from '../../dist/src/connector/contract.js';

const [url, connectionsText, secondsText] = process.argv.slice(2);
const secret = process.env.SYNC_SAMPLE_WEBHOOK_SECRET ?? '';
const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');

// A real customer of the sample shop, so the drain maps and stores every delivery.
const customers = sample.streams.find((s) => s.name === 'customers');
const config = { seed: 1, customers: 5, orders: 5, now: '2026-03-01T00:00:00Z' };
const ctx = { config, bookmark: undefined, state: { currently_syncing: null, bookmarks: {} }, log: console, signal: new AbortController().signal, startedAt: new Date() };
let template;
for await (const record of eachRecord(customers.read(ctx))) {
  template = record;
  break;
}
if (typeof template?.id !== 'number' || typeof template.email !== 'string') throw new Error(`not a customer record: ${JSON.stringify(template)?.slice(0, 200)}`);

// Signed before the clock starts, so signing does not slow the load down: enough for a
// generous rate over the whole run (timestamps stay well inside the 5-minute tolerance).
const connections = Number(connectionsText ?? 64);
const duration = Number(secondsText ?? 10);
const run = `${process.pid}_${Date.now()}`;
const ts = String(Math.floor(Date.now() / 1000));
const pool = [];
const sign = (n) => {
  const id = `msg_${run}_${n}`;
  const body = JSON.stringify({
    type: 'customers.created',
    timestamp: '2026-03-01T12:00:00Z',
    data: { ...template, id: 1_000_000 + n, email: `bench${n}@example.com`, updated_at: '2026-03-01T12:00:00.000Z' },
  });
  const signature = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  return {
    method: 'POST',
    path: '/webhooks/sample',
    body,
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${signature}` },
  };
};
const prepared = Math.min(300_000, duration * 25_000);
for (let n = 1; n <= prepared; n++) pool.push(sign(n));

let next = 0;
const result = await autocannon({
  url,
  connections,
  duration,
  pipelining: 1,
  requests: [
    {
      method: 'POST',
      path: '/webhooks/sample',
      // Past the pool (a server faster than 25,000/s), sign on the fly.
      setupRequest: () => pool[next++] ?? sign(next),
    },
  ],
});
const seconds = result.duration;
process.stdout.write(
  JSON.stringify({
    sent: next,
    prepared,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
    okPerSecond: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statusCodes: result.statusCodeStats,
  }) + '\n',
);
