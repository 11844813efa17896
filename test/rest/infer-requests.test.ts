import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRestStreams } from '../../connectors/rest/index.js';
import { silentLogger } from '../../src/log.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { runSync, tempDir } from '../helpers/cli.js';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/** Inferring a schema costs one request per stream: the first page, never the next one. */

const tmp = tempDir('sync-rest-infer-');
afterAll(tmp.cleanup);

/** Full pages of two, as far as offset 10: a paginator would always ask for another. */
async function api(): Promise<TestServer> {
  return startServer((req, res) => {
    const url = new URL(req.url ?? '', 'http://x');
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const page = (prefix: number) => [{ id: prefix + offset, updated_at: '2026-01-01T00:00:00Z' }, { id: prefix + offset + 1, updated_at: '2026-01-01T00:00:00Z' }];
    if (url.pathname === '/projects') return sendJson(res, 200, { data: offset >= 10 ? [] : page(1) });
    if (/^\/projects\/\d+\/tasks$/.test(url.pathname)) return sendJson(res, 200, { data: offset >= 10 ? [] : page(100) });
    sendJson(res, 404, { error: url.pathname });
  });
}

const paged = { type: 'offset', offset_param: 'offset', limit_param: 'limit', page_size: 2 };
const projects = { name: 'projects', path: '/projects', records_path: 'data', primary_key: 'id', pagination: paged };
const tasks = { name: 'tasks', path: '/projects/{parent}/tasks', records_path: 'data', primary_key: 'id', parent: { stream: 'projects', key: 'id', as: 'project_id' }, pagination: paged };

describe('schema inference', () => {
  it('asks for exactly one page (`sync run rest --discover`)', async () => {
    const server = await api();
    try {
      const config = join(tmp.dir, 'api.json');
      writeFileSync(config, JSON.stringify({ base_url: server.url, streams: [projects] }));
      const result = await runSync(['run', 'rest', '--config', config, '--discover'], { cwd: tmp.dir });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('"projects"');
      expect(server.seen.map((r) => r.url)).toEqual(['/projects?limit=2&offset=0']);
    } finally {
      await server.close();
    }
  });

  it('reuses the parent\'s first page for a child stream: one request per stream', async () => {
    const server = await api();
    try {
      const config: JsonObject = { base_url: server.url, streams: [projects, tasks] };
      const streams = await resolveRestStreams(config, { log: silentLogger, signal: new AbortController().signal });
      expect(streams.map((s) => Object.keys((s.schema['properties'] ?? {}) as JsonObject).sort())).toEqual([
        ['id', 'updated_at'],
        ['id', 'project_id', 'updated_at'],
      ]);
      expect(server.seen.map((r) => r.url)).toEqual(['/projects?limit=2&offset=0', '/projects/1/tasks?limit=2&offset=0']);
    } finally {
      await server.close();
    }
  });

  it('asks for the parent\'s first page only, when only the child needs a schema', async () => {
    const server = await api();
    try {
      const withSchema = { ...projects, schema: { type: 'object', properties: { id: { type: 'integer' } } } };
      await resolveRestStreams({ base_url: server.url, streams: [withSchema, tasks] }, { log: silentLogger, signal: new AbortController().signal });
      expect(server.seen.map((r) => r.url)).toEqual(['/projects?limit=2&offset=0', '/projects/1/tasks?limit=2&offset=0']);
    } finally {
      await server.close();
    }
  });
});
