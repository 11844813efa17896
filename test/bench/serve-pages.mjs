// Fixture for figure 4: a local JSON API serving precomputed pages, keep-alive.
// Usage: node serve-pages.mjs RECORDS PER_PAGE. GET /items?offset=N&limit=M answers
// {"data": [...]} (an empty array past the end); GET /stats answers (and resets) the
// requests and records served. Prints `port <n>` on stdout when ready.
import { createServer } from 'node:http';

const total = Number(process.argv[2] ?? 200_000);
const perPage = Number(process.argv[3] ?? 100);
const day = Date.parse('2025-01-01T00:00:00Z');
const pages = [];
for (let first = 1; first <= total; first += perPage) {
  const data = [];
  for (let id = first; id < first + perPage && id <= total; id++) {
    data.push({
      id,
      name: `item ${id}`,
      sku: `SKU-${String(id).padStart(8, '0')}`,
      price: Math.round(((id * 7919) % 100_000) / 10) / 10,
      quantity: id % 17,
      active: id % 3 !== 0,
      tags: ['bench', id % 2 ? 'odd' : 'even'],
      updated_at: new Date(day + id * 1000).toISOString(),
    });
  }
  pages.push(Buffer.from(JSON.stringify({ data })));
}
const empty = Buffer.from('{"data":[]}');

let served = { requests: 0, records: 0 };
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/stats') {
    // How much the last client read; reading resets it, so each run is checked on its own.
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    served = { requests: 0, records: 0 };
    return;
  }
  if (url.pathname !== '/items') {
    res.writeHead(404).end();
    return;
  }
  const offset = Number(url.searchParams.get('offset') ?? 0);
  const page = offset % perPage === 0 ? offset / perPage : -1;
  const body = pages[page] ?? empty;
  served.requests++;
  if (body !== empty) served.records += Math.min(perPage, total - offset);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
