import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { Webhook } from 'standardwebhooks';
import sample from '../../connectors/sample/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { serveConnector, startService, type Service } from '../../src/listen/service.js';
import type { ServedConnector } from '../../src/listen/server.js';
import { startSync } from '../helpers/cli.js';

/** The Standard Webhooks test secret (spec test vector); senders sign with it, the listener verifies. */
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const OTHER_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
export const NOW = '2026-03-01T00:00:00Z';

export interface Delivery {
  id: string;
  body: string | Buffer;
  headers: Record<string, string>;
}

let counter = 0;
export function nextId(prefix = 'msg'): string {
  return `${prefix}_${process.pid}_${++counter}`;
}

/** Signs like a Standard Webhooks sender, with the reference library (not our verifier). */
export function sign(body: string | Buffer, options: { id?: string; date?: Date; secret?: string } = {}): Delivery {
  const id = options.id ?? nextId();
  const date = options.date ?? new Date();
  const signature = new Webhook(options.secret ?? SECRET).sign(id, date, body);
  return {
    id,
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(date.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}

export function payload(type: string, data: JsonObject, timestamp = '2026-03-01T12:00:00Z'): string {
  return JSON.stringify({ type, timestamp, data });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

export function post(url: string, body: string | Buffer, headers: Record<string, string | string[]>, method = 'POST'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function deliver(base: string, delivery: Delivery, connector = 'sample'): Promise<Reply> {
  return post(`${base}/webhooks/${connector}`, delivery.body, delivery.headers);
}

export function get(url: string): Promise<Reply> {
  return post(url, '', {}, 'GET');
}

/** The request line and headers of a delivery (its length declared, `connection: close`); the body is the caller's to send. */
export function requestHead(d: Delivery, connector = 'sample'): string {
  const head = Object.entries(d.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  return `POST /webhooks/${connector} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(d.body)}\r\n${head}\r\n\r\n`;
}

/** A raw TCP client: what it sends is exactly what the test wrote, split where the test split it. */
export function rawSocket(base: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let connected = false;
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => {
      connected = true;
      socket.setNoDelay(true);
      resolve({ socket, received: () => Buffer.concat(chunks).toString('utf8'), closed });
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    // After connecting, a reset only means the server closed first: the test reads what arrived.
    socket.on('error', (err) => {
      if (!connected) reject(err);
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value other than undefined, or fails with what it last saw. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function rows(db: string, table: string, where = ''): Array<Record<string, unknown>> {
  if (!existsSync(db)) return [];
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    try {
      d.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get();
    } catch (err) {
      // A database whose writer was killed keeps its WAL until a writer opens it again (the
      // restarted listener's drain); a read-only reader cannot recover it, so nothing is
      // readable yet. Pollers see no rows and look again.
      if (/^SQLITE_(READONLY|BUSY)/.test((err as { code?: string }).code ?? '')) return [];
      throw err;
    }
    const exists = d.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
    if (!exists) return [];
    return d.prepare(`SELECT * FROM "${table}" ${where} ORDER BY id`).all() as Array<Record<string, unknown>>;
  } finally {
    d.close();
  }
}

export function journalRows(path: string): Array<{ delivery_id: string; status: string; error: string | null; body: Buffer }> {
  const d = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return d.prepare('SELECT delivery_id, status, error, body FROM deliveries ORDER BY seq').all() as Array<{
      delivery_id: string;
      status: string;
      error: string | null;
      body: Buffer;
    }>;
  } finally {
    d.close();
  }
}

export interface InProcess {
  service: Service;
  url: string;
  journal: string;
  target: string;
  logs: string[];
  stop(): Promise<void>;
}

export function served(options: { secrets?: string[]; maxBodyBytes?: number } = {}): Map<string, ServedConnector> {
  return new Map([
    ['sample', serveConnector(sample, options.secrets ?? [SECRET], { maxBodyBytes: options.maxBodyBytes ?? 1_048_576, toleranceSeconds: 300 })],
  ]);
}

/** The listener in this process (drain inline), on 127.0.0.1 port 0, with a fresh journal and target. */
export async function startInProcess(
  dir: string,
  options: {
    maxBodyBytes?: number;
    requestTimeoutMs?: number;
    minFreeBytes?: number;
    maxQueued?: number;
    target?: string;
    secrets?: string[];
    connectors?: Map<string, ServedConnector>;
    maxBodyBytesInFlight?: number;
    maxInFlight?: number;
    retention?: { olderThanMs: number; everyMs?: number };
  } = {},
): Promise<InProcess> {
  const logs: string[] = [];
  const log: Logger = createLogger({ format: 'text', level: 'debug', write: (line) => void logs.push(line) });
  const journal = join(dir, 'inbox.db');
  const target = options.target ?? join(dir, 'target.db');
  const service = await startService({
    connectors: options.connectors ?? served(options),
    host: '127.0.0.1',
    port: 0,
    target: `sqlite:${target}`,
    journal: { kind: 'sqlite', path: journal },
    log,
    stdout: process.stdout,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    drain: 'inline',
    onFailure: (err) => logs.push(`drain failure: ${err.message}`),
    ...(options.minFreeBytes !== undefined ? { minFreeBytes: options.minFreeBytes } : {}),
    ...(options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {}),
    ...(options.maxBodyBytesInFlight !== undefined ? { maxBodyBytesInFlight: options.maxBodyBytesInFlight } : {}),
    ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
    ...(options.retention !== undefined ? { retention: options.retention } : {}),
  });
  let stopped = false;
  return {
    service,
    url: service.url,
    journal,
    target,
    logs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await service.stop({ requestGraceMs: 2_000, drainDeadlineMs: 10_000 });
    },
  };
}

export interface Spawned {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The real binary: `sync listen sample --port 0`, resolved once it prints where it listens
 * (it does even with --quiet). Its stdout is read and dropped, unless `stdout: 'keep'`: then
 * nobody reads it until the test does (a reader that has not caught up).
 */
export async function spawnListener(
  dir: string,
  args: string[] = [],
  env: Record<string, string> = {},
  options: { stdout?: 'drop' | 'keep' } = {},
): Promise<Spawned> {
  const child = startSync(['listen', 'sample', '--port', '0', ...args], { cwd: dir, env: { SYNC_SAMPLE_WEBHOOK_SECRET: SECRET, ...env } });
  child.stdin?.end();
  const chunks: Buffer[] = [];
  if (options.stdout !== 'keep') child.stdout?.resume();
  const stderr = (): string => Buffer.concat(chunks).toString('utf8');
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const url = new Promise<string>((resolve, reject) => {
    setTimeout(() => reject(new Error(`sync listen did not start within 15 s:\n${stderr()}`)), 15_000).unref();
    child.stderr?.on('data', (c: Buffer) => {
      chunks.push(c);
      const m = /listening on (http:\/\/[^\s:]+:\d+)/.exec(stderr());
      if (m?.[1]) resolve(m[1]);
    });
    void exit.then(({ code }) => reject(new Error(`sync listen exited (${code}) before listening:\n${stderr()}`)));
  });
  try {
    return { child, url: await url, stderr, exit };
  } catch (err) {
    // Never leave a listener behind when a test cannot use it.
    child.kill('SIGKILL');
    throw err;
  }
}

/** Listeners a test starts: any still running after it is killed, so none outlives its test. */
export function stoppedAfterEach(): Spawned[] {
  const children: Spawned[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  });
  return children;
}
