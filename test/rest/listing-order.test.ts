import { afterEach, describe, expect, it } from 'vitest';
import { parseDescription, resolveRestStreams } from '../../connectors/rest/index.js';
import { eachRecord } from '../../src/connector/contract.js';
import { silentLogger } from '../../src/log.js';
import { emptyState } from '../../src/protocol/state.js';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * Two things listings of real APIs need: a newest-first listing that cannot be filtered is read
 * down to the bookmark and no further (`incremental.newest_first`), and a parent key with a
 * slash (`owner/repo`) is two path segments, never a way out of the path.
 */

let server: TestServer | undefined;
afterEach(async () => server?.close());

const schema = { type: 'object', properties: { id: { type: 'integer' }, updated_at: { type: 'string', format: 'date-time' } } };
const ctx = (bookmark?: string) => ({ config: {}, bookmark, state: emptyState(), log: silentLogger, signal: new AbortController().signal, startedAt: new Date() });

describe('incremental.newest_first', () => {
  it('stops at the first record below the bookmark, asking for no page beyond', async () => {
    // Ten records, newest first, three to a page.
    const all = Array.from({ length: 10 }, (_, i) => ({ id: 10 - i, updated_at: `2026-01-${String(10 - i).padStart(2, '0')}T00:00:00Z` }));
    server = await startServer((req, res) => {
      const page = Number(new URL(req.url ?? '', 'http://x').searchParams.get('page') ?? 1);
      sendJson(res, 200, all.slice((page - 1) * 3, page * 3));
    });
    const [stream] = await resolveRestStreams(
      {
        base_url: server.url,
        streams: [{ name: 'pulls', path: '/pulls', primary_key: 'id', replication_key: 'updated_at', incremental: { newest_first: true }, pagination: { type: 'page', page_param: 'page', page_size: 3 }, schema }],
      },
      { log: silentLogger, signal: new AbortController().signal },
    );
    const ids: unknown[] = [];
    for await (const r of eachRecord((stream as NonNullable<typeof stream>).read(ctx('2026-01-06T00:00:00Z')))) ids.push(r['id']);
    expect(ids).toEqual([10, 9, 8, 7, 6]);
    expect(server.seen.map((r) => r.url)).toEqual(['/pulls?page=1', '/pulls?page=2']);
  });

  it('is not for a stream that says it is sorted ascending', () => {
    const { problems } = parseDescription({
      base_url: 'http://127.0.0.1:9',
      streams: [{ name: 'pulls', path: '/pulls', replication_key: 'updated_at', sorted: true, incremental: { newest_first: 'yes' } }],
    });
    expect(problems).toEqual(['streams[0].incremental.newest_first: must be true or false']);
    expect(
      parseDescription({ base_url: 'http://127.0.0.1:9', streams: [{ name: 'pulls', path: '/pulls', replication_key: 'updated_at', sorted: true, incremental: { newest_first: true } }] }).problems,
    ).toEqual(['streams[0].sorted: the listing is newest first (incremental.newest_first): it is not sorted ascending, leave sorted out']);
  });
});

describe('a parent key in a path', () => {
  it('keeps a slash as a path separator, encodes the rest, and refuses "." and ".." parts', async () => {
    const parents = [{ full_name: 'acme/api v2' }, { full_name: 'acme/../../admin' }];
    server = await startServer((req, res) => {
      if (req.url === '/repos') return sendJson(res, 200, parents);
      return sendJson(res, 200, [{ id: 1, updated_at: '2026-01-01T00:00:00Z' }]);
    });
    const streams = await resolveRestStreams(
      {
        base_url: server.url,
        streams: [
          { name: 'repos', path: '/repos', primary_key: 'full_name', schema: { properties: { full_name: { type: 'string' } } } },
          { name: 'issues', path: '/repos/{parent}/issues', primary_key: 'id', parent: { stream: 'repos', key: 'full_name', as: 'repository' }, schema },
        ],
      },
      { log: silentLogger, signal: new AbortController().signal },
    );
    const issues = streams[1] as NonNullable<(typeof streams)[1]>;
    const read = async (): Promise<unknown[]> => {
      const out: unknown[] = [];
      for await (const r of eachRecord(issues.read(ctx()))) out.push(r['repository']);
      return out;
    };
    await expect(read()).rejects.toThrow('the parent key "acme/../../admin" cannot go into a path (an empty, "." or ".." part)');
    expect(server.seen.map((r) => r.url)).toEqual(['/repos', '/repos/acme/api%20v2/issues']);
  });
});
