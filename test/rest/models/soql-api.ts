import { sendJson, startServer, type TestServer } from '../../http/server.js';

/**
 * A SOQL query API as a CRM's REST API documents it: `GET /services/data/vXX.X/query?q=` for
 * live records, `/queryAll` also for deleted ones (IsDeleted true); results in `records`, with
 * `done` false and a relative `nextRecordsUrl` while more remain (pages of `batch` records).
 * The SOQL understood is what incremental reads send: `SELECT <fields> FROM <object>
 * [WHERE SystemModstamp >= <datetime literal>] ORDER BY SystemModstamp`; anything else, or a
 * quoted date-time, is the MALFORMED_QUERY error the API answers with 400.
 */

export interface SoqlRecord {
  Id: string;
  Name: string;
  SystemModstamp: string;
  IsDeleted: boolean;
}

export interface SoqlApi {
  server: TestServer;
  records: SoqlRecord[];
  queries: string[];
  close(): Promise<void>;
}

const SOQL = /^SELECT\s+([\w\s,]+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+SystemModstamp\s*>=\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z))?\s+ORDER\s+BY\s+SystemModstamp$/i;

export async function startSoqlApi(records: SoqlRecord[], token: string, batch = 2): Promise<SoqlApi> {
  const cursors = new Map<string, SoqlRecord[]>();
  let next = 1;
  const api: SoqlApi = { server: undefined as unknown as TestServer, records, queries: [], close: () => api.server.close() };
  api.server = await startServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return sendJson(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const url = new URL(req.url ?? '/', 'http://x');
    const more = /^\/services\/data\/v[\d.]+\/query\/(\w+-\d+)$/.exec(url.pathname);
    if (more) {
      const rest = cursors.get(more[1] as string);
      if (!rest) return sendJson(res, 400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
      return page(rest, more[1] as string);
    }
    const kind = /^\/services\/data\/v[\d.]+\/(query|queryAll)$/.exec(url.pathname)?.[1];
    if (!kind) return sendJson(res, 404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    const q = url.searchParams.get('q') ?? '';
    api.queries.push(q);
    const m = SOQL.exec(q.trim());
    if (!m) return sendJson(res, 400, [{ message: `unexpected token in: ${q}`, errorCode: 'MALFORMED_QUERY' }]);
    const fields = (m[1] as string).split(',').map((f) => f.trim());
    const since = m[3];
    const rows = api.records
      .filter((r) => kind === 'queryAll' || !r.IsDeleted)
      .filter((r) => since === undefined || Date.parse(r.SystemModstamp) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.SystemModstamp) - Date.parse(b.SystemModstamp))
      .map((r) => {
        const out: Record<string, unknown> = { attributes: { type: m[2], url: `/services/data/v62.0/sobjects/${m[2]}/${r.Id}` } };
        for (const f of fields) out[f] = (r as unknown as Record<string, unknown>)[f];
        return out;
      });
    const locator = `01g${next++}-0`;
    cursors.set(locator, rows as unknown as SoqlRecord[]);
    return page(rows as unknown as SoqlRecord[], locator, rows.length);

    function page(all: SoqlRecord[], id: string, total = all.length): void {
      const head = all.slice(0, batch);
      const tail = all.slice(batch);
      const base = id.replace(/-\d+$/, '');
      const nextId = `${base}-${Number(id.split('-')[1]) + batch}`;
      if (tail.length) cursors.set(nextId, tail);
      sendJson(res, 200, { totalSize: total, done: tail.length === 0, ...(tail.length ? { nextRecordsUrl: `/services/data/v62.0/query/${nextId}` } : {}), records: head });
    }
  });
  return api;
}
