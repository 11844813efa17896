import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDescription, resolveRestStreams } from '../../connectors/rest/index.js';
import { silentLogger } from '../../src/log.js';
import type { JsonObject } from '../../src/protocol/json.js';
import type { SyncState } from '../../src/protocol/state.js';
import { tempDir } from '../helpers/cli.js';
import { syncIntoSqlite } from '../helpers/sync-into-sqlite.js';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/** Parent/child streams: each project's tasks, with one bookmark per project. */

interface Task {
  id: number;
  title: string;
  updated_at: string;
}

const tmp = tempDir('sync-rest-children-');
let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

let clock = Date.parse('2025-05-01T00:00:00Z');
const tasks = new Map<number, Map<number, Task>>([
  [1, new Map()],
  [2, new Map()],
]);
const put = (project: number, id: number, title: string): void => {
  tasks.get(project)?.set(id, { id, title, updated_at: new Date((clock += 60_000)).toISOString() });
};
for (let i = 1; i <= 5; i++) put(1, i, `p1 task ${i}`);
for (let i = 6; i <= 8; i++) put(2, i, `p2 task ${i}`);

const description = (url: string): JsonObject => ({
  base_url: url,
  streams: [
    { name: 'projects', path: '/projects', primary_key: 'id', schema: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } } },
    {
      name: 'tasks',
      path: '/projects/{parent}/tasks',
      primary_key: 'id',
      replication_key: 'updated_at',
      sorted: true,
      parent: { stream: 'projects', key: 'id', as: 'project_id' },
      incremental: { param: 'updated_since', format: 'iso8601' },
      schema: { type: 'object', properties: { id: { type: 'integer' }, title: { type: 'string' }, updated_at: { type: 'string', format: 'date-time' } } },
    },
  ],
});

async function sync(db: string, url: string): Promise<SyncState> {
  const streams = await resolveRestStreams(description(url), { log: silentLogger, signal: new AbortController().signal });
  return syncIntoSqlite({ db, stateId: 'rest', streams, config: {} });
}

describe('child streams of a rest description', () => {
  it('reads each parent’s children from that parent’s own bookmark, losing nothing', async () => {
    const requests: string[] = [];
    server = await startServer((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      requests.push(url.pathname + url.search);
      if (url.pathname === '/projects') return sendJson(res, 200, [{ id: 1, name: 'one' }, { id: 2, name: 'two' }]);
      const m = /^\/projects\/(\d+)\/tasks$/.exec(url.pathname);
      const since = url.searchParams.get('updated_since');
      const list = [...(tasks.get(Number(m?.[1])) ?? new Map<number, Task>()).values()]
        .filter((t) => since === null || Date.parse(t.updated_at) >= Date.parse(since))
        .sort((a, b) => a.updated_at.localeCompare(b.updated_at));
      return sendJson(res, m ? 200 : 404, m ? list : { error: 'no route' });
    });
    const db = join(tmp.dir, 'children.db');
    const first = await sync(db, server.url);
    const partitions = (first.bookmarks['tasks'] as { partitions: Record<string, string> }).partitions;
    expect(partitions).toEqual({ '1': tasks.get(1)?.get(5)?.updated_at, '2': tasks.get(2)?.get(8)?.updated_at });

    put(2, 7, 'p2 task 7, renamed');
    put(1, 9, 'p1 task 9, new');
    requests.length = 0;
    await sync(db, server.url);
    // Each parent asked from its own bookmark, not one shared value.
    // (The API's iso8601 format drops a zero fraction.)
    const since = (p: string): string => encodeURIComponent((partitions[p] ?? '').replace('.000Z', 'Z'));
    expect(requests).toEqual(['/projects', '/projects', `/projects/1/tasks?updated_since=${since('1')}`, `/projects/2/tasks?updated_since=${since('2')}`]);

    const d = new Database(db, { readonly: true });
    const rows = d.prepare('SELECT id, title, project_id, updated_at FROM tasks ORDER BY id').all();
    d.close();
    const truth = [...tasks.entries()].flatMap(([project, list]) => [...list.values()].map((t) => ({ ...t, project_id: project })));
    expect(rows).toEqual(truth.sort((a, b) => a.id - b.id));
  });

  it('checks the parent link: an earlier stream, and {parent} used in the request', () => {
    const bad = description('http://127.0.0.1:9');
    const streams = bad['streams'] as JsonObject[];
    streams.reverse();
    expect(parseDescription(bad).problems).toContain('streams[0].parent.stream: must name an earlier stream (none before this one), got "projects"');
    const noPlaceholder = description('http://127.0.0.1:9');
    ((noPlaceholder['streams'] as JsonObject[])[1] as JsonObject)['path'] = '/tasks';
    expect(parseDescription(noPlaceholder).problems).toEqual(['streams[1].path: a child stream must use {parent} in its path, a param value, the body or the GraphQL variables']);
  });
});
