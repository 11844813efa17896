// The second baseline of figure 1, the ceiling of any SQLite target: the same rows as
// baseline-sqlite-loop.mjs, but parsed and built before the clock starts, so what is timed is
// only the upserts in batched transactions (WAL, synchronous=FULL, as `sync target sqlite`).
// Writes the seconds the writes took (table creation, every batch, the close) to OUT as JSON.
// Usage: node baseline-sqlite-pure.mjs INPUT.ndjson DB OUT.json
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';

const [input, path, out] = process.argv.slice(2);
const batchSize = 50000;
let schema;
const rows = [];
for (const line of readFileSync(input, 'utf8').split('\n')) {
  if (line === '') continue;
  const message = JSON.parse(line);
  if (message.type === 'SCHEMA' && !schema) schema = message;
  else if (message.type === 'RECORD') rows.push(message.record);
}
const columns = Object.keys(schema.schema.properties);
const built = rows.map((record) =>
  columns.map((c) => {
    const v = record[c];
    return v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : typeof v === 'boolean' ? Number(v) : v;
  }),
);
rows.length = 0;

const started = performance.now();
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
const list = columns.map((c) => `"${c}"`).join(', ');
const keys = `"${schema.key_properties.join('", "')}"`;
db.exec(`CREATE TABLE IF NOT EXISTS "${schema.stream}" (${list})`);
db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS "${schema.stream}_key" ON "${schema.stream}" (${keys})`);
const insert = db.prepare(
  `INSERT INTO "${schema.stream}" (${list}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT (${keys}) DO UPDATE SET ${columns.map((c) => `"${c}" = excluded."${c}"`).join(', ')}`,
);
const write = db.transaction((from, to) => {
  for (let i = from; i < to; i++) insert.run(built[i]);
});
for (let from = 0; from < built.length; from += batchSize) write(from, Math.min(from + batchSize, built.length));
db.close();
writeFileSync(out, JSON.stringify({ seconds: (performance.now() - started) / 1000 }));
