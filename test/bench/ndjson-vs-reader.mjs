// The figures of ARCHITECTURE.md's "`ndjson` where it serves, not on the hot path": the same
// file of Singer RECORD lines read and parsed by `ndjson` (split2 + JSON.parse), and by sync's
// line splitter with its lossless parser into Singer messages (what `sync target` does with each
// line of stdin), best of three, alternated so a busy spell on a shared machine hits both alike.
//
// Usage (after `npm run build`): node test/bench/ndjson-vs-reader.mjs [--orders N]   (default 200,000)
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndjson from 'ndjson';
import sample from '../../dist/connectors/sample/index.js';
import { parseMessageOrBatch } from '../../dist/src/protocol/messages.js';
import { LineSplitter } from '../../dist/src/protocol/line-splitter.js';

const at = process.argv.indexOf('--orders');
const orders = at === -1 ? 200_000 : Number(process.argv[at + 1]);
const dir = mkdtempSync(join(tmpdir(), 'sync-ndjson-bench-'));
const file = join(dir, 'orders.ndjson');

try {
  await writeRecords(file, orders);
  const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  process.stdout.write(`${fmt(statSync(file).size / 1e6)} MB, ${fmt(orders)} RECORD lines\n`);
  let ours = Infinity;
  let theirs = Infinity;
  for (let i = 0; i < 3; i++) {
    theirs = Math.min(theirs, await timed(() => readWithNdjson(file), orders));
    ours = Math.min(ours, await timed(() => readWithSplitter(file), orders));
  }
  process.stdout.write(`ndjson (split2 + JSON.parse):           ${fmt(theirs, 2)} s\n`);
  process.stdout.write(`line splitter + lossless parser (sync): ${fmt(ours, 2)} s\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** The sample's orders as RECORD lines, as `sync run sample --target - --streams orders` writes them. */
async function writeRecords(path, count) {
  const stream = sample.streams.find((s) => s.name === 'orders');
  const config = { seed: 1, customers: Math.max(1, Math.round(count / 10)), orders: count, now: '2026-01-01T00:00:00Z' };
  const ctx = { config, bookmark: undefined, state: { currently_syncing: null, bookmarks: {} }, log: console, signal: new AbortController().signal, startedAt: new Date() };
  const out = createWriteStream(path);
  for await (const page of stream.read(ctx)) {
    let text = '';
    for (const record of Array.isArray(page) ? page : [page]) text += '{"type":"RECORD","stream":"orders","record":' + JSON.stringify(record) + '}\n';
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Seconds `read` took; it must return how many values it parsed. */
async function timed(read, expected) {
  const started = process.hrtime.bigint();
  const n = await read();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (n !== expected) throw new Error(`parsed ${n} values, expected ${expected}`);
  return seconds;
}

async function readWithNdjson(path) {
  let n = 0;
  for await (const value of createReadStream(path).pipe(ndjson.parse({ strict: true }))) if (value) n++;
  return n;
}

async function readWithSplitter(path) {
  const lines = new LineSplitter();
  let n = 0;
  for await (const chunk of createReadStream(path)) {
    lines.push(chunk);
    for (let text = lines.next(); text !== undefined; text = lines.next()) if (parseMessageOrBatch(text, lines.lineNumber)) n++;
  }
  const last = lines.end();
  if (last !== undefined && parseMessageOrBatch(last, lines.lineNumber)) n++;
  return n;
}
