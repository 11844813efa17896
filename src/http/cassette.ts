import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import { ReplayMissError } from './errors.js';
import { pathOf, redactBodyText, redactHeaders, redactUrl, scrubBytes } from './redact.js';

/**
 * Record and replay of HTTP exchanges, so connector tests run offline against real answers.
 * One JSON file per exchange (`0001-GET-1a2b3c4d.json`): easy to read, diff and edit by hand.
 * Credentials are removed before anything touches the disk; replay applies the same
 * redaction to live requests, so they match recordings made with different tokens.
 */

/** What the client hands over after a response was read and decoded. */
export interface Exchange {
  method: string;
  url: string;
  requestHeaders: Readonly<Record<string, string>>;
  requestBody: string | Buffer | undefined;
  status: number;
  responseHeaders: Readonly<Record<string, string>>;
  responseBody: Buffer;
}

export interface Recorder {
  /** Writes one exchange, redacted of `secrets`; returns the file written. */
  record(exchange: Exchange, secrets: readonly string[]): string;
}

export interface ReplayRequest {
  method: string;
  url: string;
  headers: Readonly<Record<string, string>>;
  body: string | Buffer | undefined;
}

export interface ReplayedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Replayer {
  replay(request: ReplayRequest, secrets: readonly string[]): ReplayedResponse;
}

/** The file format. */
interface CassetteEntry {
  request: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: string;
    bodyEncoding?: 'utf8' | 'base64';
    /** Hash of the redacted body: the replay key for requests with a body. */
    bodySha256?: string;
  };
  response: {
    status: number;
    headers: Record<string, string>;
    body: string;
    bodyEncoding: 'utf8' | 'base64';
  };
}

const FILE_NAME = /^(\d+)-([A-Z]+)-[0-9a-f]+\.json$/;

export function createRecorder(dir: string): Recorder {
  mkdirSync(dir, { recursive: true });
  // Continue after existing recordings rather than overwrite them.
  let sequence = 0;
  for (const name of readdirSync(dir)) {
    const match = FILE_NAME.exec(name);
    if (match) sequence = Math.max(sequence, Number(match[1]));
  }
  // Every secret the run has used so far, not only the current ones: a renewed OAuth token
  // does not make the old one harmless, and a later page may still echo it (a next link).
  const known = new Set<string>();
  return {
    record(exchange, current) {
      for (const s of current) known.add(s);
      const secrets = [...known];
      const url = redactUrl(exchange.url, secrets);
      const requestBody = redactedBody(exchange.requestBody, exchange.requestHeaders['content-type'], secrets);
      const responseBody = redactedBody(exchange.responseBody, exchange.responseHeaders['content-type'], secrets) ?? { text: '', encoding: 'utf8' as const };
      const entry: CassetteEntry = {
        request: { method: exchange.method, url, headers: redactHeaders(exchange.requestHeaders, secrets) },
        response: {
          status: exchange.status,
          headers: redactHeaders(withoutTransportHeaders(exchange.responseHeaders), secrets),
          body: responseBody.text,
          bodyEncoding: responseBody.encoding,
        },
      };
      if (requestBody) {
        entry.request.body = requestBody.text;
        entry.request.bodyEncoding = requestBody.encoding;
        entry.request.bodySha256 = sha256(requestBody.text);
      }
      sequence++;
      const file = join(dir, `${String(sequence).padStart(4, '0')}-${exchange.method}-${sha256(url).slice(0, 8)}.json`);
      writeFileAtomic(file, `${JSON.stringify(entry, null, 2)}\n`);
      return file;
    },
  };
}

interface Loaded {
  file: string;
  entry: CassetteEntry;
}

export function createReplayer(dir: string): Replayer {
  // Loaded on first use, so a test may record and then replay into the same folder.
  let byKey: Map<string, Loaded[]> | undefined;
  let all: Loaded[] = [];
  const used = new Map<string, number>();

  const load = (): Map<string, Loaded[]> => {
    const map = new Map<string, Loaded[]>();
    const files = readdirSync(dir)
      .map((name) => ({ name, match: FILE_NAME.exec(name) }))
      .filter((f) => f.match !== null)
      .sort((a, b) => Number(a.match?.[1]) - Number(b.match?.[1]) || a.name.localeCompare(b.name));
    all = files.map(({ name }) => ({ file: name, entry: JSON.parse(readFileSync(join(dir, name), 'utf8')) as CassetteEntry }));
    for (const loaded of all) {
      const r = loaded.entry.request;
      const key = replayKey(r.method, r.url, r.bodySha256);
      const list = map.get(key);
      if (list) list.push(loaded);
      else map.set(key, [loaded]);
    }
    return map;
  };

  // As when recording: requests are keyed redacted of every secret used so far.
  const known = new Set<string>();
  return {
    replay(request, current) {
      for (const s of current) known.add(s);
      const secrets = [...known];
      byKey ??= load();
      const url = redactUrl(request.url, secrets);
      const body = redactedBody(request.body, request.headers['content-type'], secrets);
      const bodySha = body ? sha256(body.text) : undefined;
      const key = replayKey(request.method, url, bodySha);
      const candidates = byKey.get(key) ?? [];
      const index = used.get(key) ?? 0;
      const hit = candidates[index];
      if (!hit) throw missError(dir, request.method, url, bodySha, candidates.length, all);
      // Identical requests are answered in recorded order (page 1 then page 1 again after a change...).
      used.set(key, index + 1);
      const r = hit.entry.response;
      return { status: r.status, headers: { ...r.headers }, body: Buffer.from(r.body, r.bodyEncoding) };
    },
  };
}

/** Headers about the connection or the exact byte count (which redaction changes), not the answer. */
const TRANSPORT_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function withoutTransportHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) if (!TRANSPORT_HEADERS.has(name)) out[name] = headers[name] ?? '';
  return out;
}

function replayKey(method: string, url: string, bodySha: string | undefined): string {
  return bodySha === undefined ? `${method} ${url}` : `${method} ${url} body:${bodySha}`;
}

function describe(method: string, url: string, bodySha: string | undefined): string {
  return bodySha === undefined ? `${method} ${url}` : `${method} ${url} (body sha256 ${bodySha.slice(0, 12)})`;
}

function missError(dir: string, method: string, url: string, bodySha: string | undefined, sameKey: number, all: readonly Loaded[]): ReplayMissError {
  const wanted = describe(method, url, bodySha);
  if (sameKey > 0) {
    return new ReplayMissError(`replay: ${wanted} was requested ${sameKey + 1} times but recorded only ${sameKey} in ${dir}`);
  }
  const path = pathOf(url);
  const samePath = all.filter((l) => pathOf(l.entry.request.url) === path);
  const lines = samePath.map((l) => `  ${l.file}: ${describe(l.entry.request.method, l.entry.request.url, l.entry.request.bodySha256)}`);
  const known = lines.length > 0 ? `recordings for ${path}:\n${lines.join('\n')}` : `no recordings for ${path} (${all.length} recordings in the folder)`;
  return new ReplayMissError(`replay: no recording for ${wanted} in ${dir}; ${known}`);
}

function redactedBody(
  body: string | Buffer | undefined,
  contentType: string | undefined,
  secrets: readonly string[],
): { text: string; encoding: 'utf8' | 'base64' } | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string') return { text: redactBodyText(body, contentType, secrets), encoding: 'utf8' };
  if (body.length === 0) return { text: '', encoding: 'utf8' };
  // Not UTF-8 (latin-1 text, a binary format): still scrubbed, byte for byte, before it is
  // kept as base64, since an echoed secret is as readable there once decoded.
  if (!isUtf8(body)) return { text: scrubBytes(body, secrets).toString('base64'), encoding: 'base64' };
  return { text: redactBodyText(body.toString('utf8'), contentType, secrets), encoding: 'utf8' };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
