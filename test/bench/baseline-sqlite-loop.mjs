// Baseline for figure 1: the least a loader must do. Reads RECORD lines from stdin, parses
// each with JSON.parse and upserts the rows with better-sqlite3 in batched transactions,
// with the same journal settings as `sync target sqlite` (WAL, synchronous=FULL).
import Database from 'better-sqlite3';
import { StringDecoder } from 'node:string_decoder';

const [path, batchText] = process.argv.slice(2);
const batchSize = Number(batchText ?? 50000);
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
let insert;
let columns;
let rows = [];
const flush = db.transaction(() => {
  for (const row of rows) insert.run(row);
  rows = [];
});
const decoder = new StringDecoder('utf8');
let rest = '';
for await (const chunk of process.stdin) {
  const text = rest + decoder.write(chunk);
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    const message = JSON.parse(text.slice(start, nl));
    start = nl + 1;
    if (message.type === 'SCHEMA' && !insert) {
      columns = Object.keys(message.schema.properties);
      const list = columns.map((c) => `"${c}"`).join(', ');
      db.exec(`CREATE TABLE IF NOT EXISTS "${message.stream}" (${list})`);
      db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS "${message.stream}_key" ON "${message.stream}" ("${message.key_properties.join('", "')}")`);
      const updates = columns.map((c) => `"${c}" = excluded."${c}"`).join(', ');
      insert = db.prepare(
        `INSERT INTO "${message.stream}" (${list}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT ("${message.key_properties.join('", "')}") DO UPDATE SET ${updates}`,
      );
    } else if (message.type === 'RECORD') {
      const record = message.record;
      rows.push(columns.map((c) => {
        const v = record[c];
        return v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : typeof v === 'boolean' ? Number(v) : v;
      }));
      if (rows.length >= batchSize) flush();
    }
  }
  rest = text.slice(start);
}
if (rows.length) flush();
db.close();
