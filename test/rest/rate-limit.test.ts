import { afterAll, describe, expect, it } from 'vitest';
import { parseDescription, resolveRestStreams } from '../../connectors/rest/index.js';
import { eachRecord } from '../../src/connector/contract.js';
import { silentLogger } from '../../src/log.js';
import { emptyState } from '../../src/protocol/state.js';
import { recordingSleep, sendJson, startServer, type TestServer } from '../http/server.js';

/** The description's rate_limit section: checked like the rest, and applied to every request. */

let server: TestServer | undefined;
afterAll(async () => server?.close());

const base = (extra: object) => ({
  base_url: 'http://127.0.0.1:9',
  streams: [{ name: 'items', path: '/items', primary_key: 'id', records_path: 'data', pagination: { type: 'page', page_param: 'page', page_size: 2 } }],
  ...extra,
});

describe('rate_limit', () => {
  it('reports each wrong value with its path', () => {
    const { problems } = parseDescription(base({ rate_limit: { requests_per_second: 0, max_concurrent: 1.5, burst: 3 } }));
    expect(problems).toEqual([
      'rate_limit.burst: unknown key (known: requests_per_second, max_concurrent, reset_header, endpoints)',
      'rate_limit.requests_per_second: must be a number >= 0.001',
      'rate_limit.max_concurrent: must be an integer',
    ]);
  });

  it('spaces requests to the declared rate', async () => {
    server = await startServer((req, res) => {
      const page = Number(new URL(req.url ?? '', 'http://x').searchParams.get('page') ?? 1);
      sendJson(res, 200, { data: page <= 4 ? [{ id: page * 2 - 1 }, { id: page * 2 }] : [] });
    });
    const { waits, sleep } = recordingSleep();
    const [stream] = await resolveRestStreams(
      { ...base({ rate_limit: { requests_per_second: 10 } }), base_url: server.url, streams: [{ ...base({}).streams[0], schema: { type: 'object', properties: { id: { type: 'integer' } } } }] },
      // The clock stands still, so the waits are the limiter's alone, whatever the machine's load.
      { log: silentLogger, signal: new AbortController().signal, http: { now: () => 0, sleep } },
    );
    const ids: unknown[] = [];
    const ctx = { config: {}, bookmark: undefined, state: emptyState(), log: silentLogger, signal: new AbortController().signal, startedAt: new Date() };
    if (!stream) throw new Error('the description gave no stream');
    for await (const r of eachRecord(stream.read(ctx))) ids.push(r['id']);
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(server.seen).toHaveLength(5);
    // Five starts at 10/s: the first at once, each other one 100 ms after the one before it.
    expect(waits).toEqual([100, 200, 300, 400]);
  });

  it('errors: reports each wrong rule with its path', () => {
    const { problems } = parseDescription(
      base({ errors: [{ status: 200, path: 'code', equals: 'X', then: 'retry' }, { status: 403, path: '0.errorCode', then: 'wait' }, { path: 'code', in: ['A'], then: 'later', after: 1 }] }),
    );
    expect(problems).toEqual([
      'errors[0].status: an error status (400 to 599) or a list of them',
      'errors[1]: give "equals" (one value) or "in" (a list of values) to compare the value at "path" with',
      'errors[1].then: must be one of retry, later (got "wait")',
      'errors[2].after: unknown key (known: status, path, equals, in, then, reason)',
    ]);
    expect(parseDescription(base({ errors: [] })).problems).toEqual(['errors: must be a non-empty array of {"status", "path", "equals" | "in", "then"}']);
  });

  it('reports each wrong endpoint limit with its path', () => {
    const { problems } = parseDescription(
      base({ rate_limit: { endpoints: [{ path: 'search', requests_per_second: 5 }, { path: '/x' }, { path: '/y', max_concurrent: 0, every: 1 }, 'z'] } }),
    );
    expect(problems).toEqual([
      'rate_limit.endpoints[0].path: must start with "/" (segments, "*" for any one)',
      'rate_limit.endpoints[1]: needs requests_per_second or max_concurrent',
      'rate_limit.endpoints[2].every: unknown key (known: path, requests_per_second, max_concurrent)',
      'rate_limit.endpoints[2].max_concurrent: must be a number >= 1',
      'rate_limit.endpoints[3]: must be an object',
    ]);
  });

  it('draws every stream of a run, and the children of each parent, from one allowance', async () => {
    server = await startServer((req, res) => {
      const path = new URL(req.url ?? '', 'http://x').pathname;
      const project = /^\/projects\/(\d+)\/tasks$/.exec(path)?.[1];
      if (path === '/projects') return sendJson(res, 200, [{ id: 1 }, { id: 2 }, { id: 3 }]);
      if (project !== undefined) return sendJson(res, 200, [{ id: Number(project) * 10 }]);
      return sendJson(res, 404, {});
    });
    const schema = { type: 'object', properties: { id: { type: 'integer' } } };
    const { waits, sleep } = recordingSleep();
    const streams = await resolveRestStreams(
      {
        base_url: server.url,
        rate_limit: { requests_per_second: 10 },
        streams: [
          { name: 'projects', path: '/projects', primary_key: 'id', schema },
          { name: 'tasks', path: '/projects/{parent}/tasks', primary_key: 'id', parent: { stream: 'projects', key: 'id', as: 'project_id' }, schema },
        ],
      },
      // The clock stands still: each request waits 100 ms longer than the one before it,
      // whichever stream's client sends it.
      { log: silentLogger, signal: new AbortController().signal, http: { now: () => 0, sleep } },
    );
    const ctx = { config: {}, bookmark: undefined, state: emptyState(), log: silentLogger, signal: new AbortController().signal, startedAt: new Date() };
    const tasks = streams[1];
    if (tasks === undefined) throw new Error('the description gave no tasks stream');
    const ids: unknown[] = [];
    for await (const r of eachRecord(tasks.read(ctx))) ids.push(r['id']);
    expect(ids).toEqual([10, 20, 30]);
    expect(server.seen.map((r) => r.url)).toEqual(['/projects', '/projects/1/tasks', '/projects/2/tasks', '/projects/3/tasks']);
    expect(waits).toEqual([100, 200, 300]);
  });
});
