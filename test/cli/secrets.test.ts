import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * The promise that secrets never reach the terminal, the log or a recording, through the real
 * binary: `sync run rest` against an API that echoes whatever credential it receives, in the
 * encodings servers use (PHP's JSON with `\/`, `\uXXXX`, percent-encoding, base64, the Basic
 * header itself) into an error, a warning (a record property named after it, which the SQLite
 * target reports) and a `--debug` line (the path of a retried page).
 */

const tmp = tempDir('sync-secrets-');
afterAll(tmp.cleanup);

/** Characters that JSON, URLs and base64 all treat differently. */
const CONFIG_TOKEN = 'cfg/T0ken"\\+x y<&>=1';
const ENV_PASSWORD = 'env/Pa55"\\+x y<&>=2';
const CLIENT_SECRET = 'client/S3cret"+x y<&>=3';
const USERNAME = 'robot-user';

/** PHP's json_encode: `/` as `\/`, and (like Go and .NET) HTML-sensitive characters as `\u00XX`. */
function phpJson(value: string): string {
  return JSON.stringify(value)
    .slice(1, -1)
    .replace(/\//g, '\\/')
    .replace(/[<>&'+]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Every way the API below echoes `secret`, and how it may then be written in a JSON log line. */
function encodings(secret: string): string[] {
  const b64 = Buffer.from(secret).toString('base64');
  const forms = [
    secret,
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(JSON.stringify(secret)).slice(1, -1),
    phpJson(secret),
    JSON.stringify(phpJson(secret)).slice(1, -1),
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    b64,
    b64.replace(/=+$/, ''),
    Buffer.from(secret).toString('base64url'),
  ];
  return forms;
}

/** What the API read as the credential: a bearer token, or a Basic password. */
function credentialOf(req: IncomingMessage): { credential: string; header: string } {
  const header = req.headers['authorization'] ?? '';
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return { credential: decoded.slice(decoded.indexOf(':') + 1), header };
  }
  return { credential: header.replace(/^Bearer /, ''), header };
}

/** A body as a careless PHP API writes it: the credential in several encodings. */
function echoBody(credential: string, header: string): string {
  return (
    `{"error":"invalid_token","message":"refused ${phpJson(credential)}",` +
    `"b64":"${Buffer.from(credential).toString('base64')}","url":"${encodeURIComponent(credential)}",` +
    `"authorization":"${phpJson(header)}"}`
  );
}

let api: TestServer;
/** Access tokens the token endpoint handed out. */
const minted: string[] = [];
/** Second pages answered 503 already, in this run. */
const busy = new Set<string>();

beforeAll(async () => {
  api = await startServer((req, res, seen) => {
    const url = new URL(seen.url, 'http://x');
    if (url.pathname === '/oauth/token') {
      const token = `at/"\\+x y<&>=${minted.length}-${'k'.repeat(8)}`;
      minted.push(token);
      return sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
    }
    const { credential, header } = credentialOf(req);
    if (url.pathname === '/items') {
      // Properties named after the credential: the target warns about each one it does not know.
      const record: Record<string, unknown> = { id: 1, name: 'one' };
      for (const [i, name] of [credential, phpJson(credential), Buffer.from(credential).toString('base64'), encodeURIComponent(credential)].entries()) {
        record[`echo${i} ${name}`] = i;
      }
      const next = `/items/${encodeURIComponent(credential)}/${Buffer.from(credential).toString('base64url')}/2`;
      return sendJson(res, 200, { data: [record], next });
    }
    // The second page: busy once (a retry, logged at debug level with its path), then refused.
    if (!busy.has(seen.url)) {
      busy.add(seen.url);
      return sendJson(res, 503, { error: 'busy' });
    }
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(echoBody(credential, header));
  });
});
afterAll(() => api.close());

type Source = 'config' | 'env' | 'oauth';

function description(source: Source): Record<string, unknown> {
  const auth =
    source === 'config'
      ? { type: 'bearer' }
      : source === 'env'
        ? { type: 'basic' }
        : { type: 'oauth2_client_credentials', token_url: `${api.url}/oauth/token` };
  return {
    base_url: api.url,
    auth,
    ...(source === 'config' ? { token: CONFIG_TOKEN } : {}),
    ...(source === 'env' ? { username: USERNAME } : {}),
    ...(source === 'oauth' ? { client_id: 'client-1', client_secret: CLIENT_SECRET } : {}),
    streams: [
      {
        name: 'items',
        path: '/items',
        records_path: 'data',
        primary_key: 'id',
        schema: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } },
        pagination: { type: 'next_url', next_url_path: 'next' },
      },
    ],
  };
}

function filesUnder(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

async function runAgainstEchoingApi(source: Source, format: 'text' | 'json') {
  const dir = join(tmp.dir, `${source}-${format}`);
  const cassette = join(dir, 'cassette');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  writeFileSync(join(dir, 'api.json'), JSON.stringify(description(source)));
  const mintedBefore = minted.length;
  busy.clear();
  const result = await runSync(
    ['run', 'rest', '--config', 'api.json', '--debug', '--log-format', format, '--record', cassette],
    { cwd: dir, env: source === 'env' ? { SYNC_REST_PASSWORD: ENV_PASSWORD } : {} },
  );
  const secrets =
    source === 'config'
      ? [CONFIG_TOKEN]
      : source === 'env'
        ? [ENV_PASSWORD, Buffer.from(`${USERNAME}:${ENV_PASSWORD}`).toString('base64')]
        : [CLIENT_SECRET, ...minted.slice(mintedBefore)];
  return { result, secrets, recorded: filesUnder(cassette), mintedNow: minted.length - mintedBefore };
}

const TEXT_PREFIX = { warn: 'warning: ', debug: 'debug: ', error: 'sync: error: ' } as const;

/** Lines of stderr at `level`: `warning: ...` in text, `{"level": "warn", ...}` in JSON (errors too). */
function linesAt(stderr: string, format: 'text' | 'json', level: 'warn' | 'debug' | 'error'): string[] {
  const lines = stderr.split('\n');
  if (format === 'text') return lines.filter((l) => l.startsWith(TEXT_PREFIX[level]));
  return lines.filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: string }).level === level);
}

describe('secrets never reach stderr, stdout or a recording, whatever the encoding the API echoes them in', () => {
  for (const source of ['config', 'env', 'oauth'] as const) {
    for (const format of ['text', 'json'] as const) {
      // An access token is learnt while running: the HTTP client tells the log (Logger.redact),
      // which scrubs it from then on, also once expired and echoed in a later error.
      it(`a secret from ${source === 'config' ? 'the config file' : source === 'env' ? 'the environment' : 'an OAuth token response'}, ${format} log format`, async () => {
        const { result, secrets, recorded, mintedNow } = await runAgainstEchoingApi(source, format);
        expect(result.code, result.stderr).toBe(1);
        if (source === 'oauth') expect(mintedNow).toBe(2); // the refused token was renewed once
        // The API did echo the secret everywhere the test looks: each place shows a marker, the
        // HTTP client's (REDACTED) or the log's (********), which has the last word.
        const error = linesAt(result.stderr, format, 'error')[0];
        expect(error, result.stderr).toMatch(/answered 401 Unauthorized: .*(REDACTED|\*{8})/);
        expect(linesAt(result.stderr, format, 'warn').filter((l) => l.includes('********')).length, result.stderr).toBeGreaterThanOrEqual(4);
        expect(linesAt(result.stderr, format, 'debug').some((l) => /retrying GET \/items\/.*(REDACTED|\*{8})/.test(l)), result.stderr).toBe(true);
        expect(recorded).toContain('REDACTED');
        for (const secret of secrets) {
          for (const form of encodings(secret)) {
            expect(result.stderr, `stderr holds ${form}`).not.toContain(form);
            expect(result.stdout, `stdout holds ${form}`).not.toContain(form);
            expect(recorded, `the recording holds ${form}`).not.toContain(form);
          }
        }
        // JSON lines stay JSON after scrubbing.
        if (format === 'json') for (const l of result.stderr.split('\n')) if (l.startsWith('{')) expect(() => JSON.parse(l)).not.toThrow();
      });
    }
  }
});
