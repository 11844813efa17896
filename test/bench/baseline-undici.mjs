// Baseline for figure 4: the least an HTTP extractor must do. Fetches every page of
// BASE_URL/items sequentially with undici (keep-alive), parses the JSON and writes each
// record as a RECORD line to stdout in 64 KiB chunks, stopping at a short page.
import { request } from 'undici';

const [base, perPageText] = process.argv.slice(2);
const perPage = Number(perPageText ?? 100);
let buffer = '';
for (let offset = 0; ; ) {
  const { statusCode, body } = await request(`${base}/items?offset=${offset}&limit=${perPage}`, {
    headers: { authorization: 'Bearer bench-token', accept: 'application/json' },
  });
  if (statusCode !== 200) throw new Error(`GET /items: ${statusCode}`);
  const { data } = await body.json();
  for (const record of data) {
    buffer += '{"type":"RECORD","stream":"items","record":' + JSON.stringify(record) + '}\n';
    if (buffer.length > 65536) {
      process.stdout.write(buffer);
      buffer = '';
    }
  }
  offset += data.length;
  if (data.length < perPage) break;
}
process.stdout.write(buffer);
