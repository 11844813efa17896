// Baseline for figure 2: generate the sample's orders and JSON-serialise each as a RECORD
// line, written in 64 KiB chunks to stdout, with none of sync's runner, state or checks.
import sample from '../../dist/connectors/sample/index.js';

const orders = sample.streams.find((s) => s.name === 'orders');
const config = { seed: 1, customers: Number(process.env.SYNC_SAMPLE_CUSTOMERS), orders: Number(process.env.SYNC_SAMPLE_ORDERS), now: process.env.SYNC_SAMPLE_NOW };
const ctx = { config, bookmark: undefined, state: { currently_syncing: null, bookmarks: {} }, log: console, signal: new AbortController().signal, startedAt: new Date() };
let buffer = '';
// The stream yields pages (arrays) of records.
for await (const page of orders.read(ctx)) {
  for (const record of Array.isArray(page) ? page : [page]) {
    buffer += '{"type":"RECORD","stream":"orders","record":' + JSON.stringify(record) + '}\n';
    if (buffer.length > 65536) {
      process.stdout.write(buffer);
      buffer = '';
    }
  }
}
process.stdout.write(buffer);
