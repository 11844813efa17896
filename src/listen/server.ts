import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyConnector, WebhookReply, WebhookRequest, WebhookSpec } from '../connector/contract.js';
import type { Logger } from '../log.js';
import { formatInstant } from '../protocol/instant.js';
import { isJsonObject, LosslessNumber, parseJson, type JsonValue } from '../protocol/json.js';
import { readBody } from './body.js';
import { JournalUnavailable, type JournalWriter } from './journal-writer.js';
import { withoutCredentials } from './verify/index.js';

/**
 * The HTTP side of `sync listen`: raw bytes in under a cap, verify, append to the journal,
 * and only then 2xx. Nothing here parses a body before its signature passed, and nothing is
 * answered 2xx that is not on disk. Mapping and the target are the drain's business.
 */

export type VerifyOutcome = { ok: true; deliveryId?: string | undefined } | { ok: false; reason: string };

/** One connector as the listener serves it: its webhook spec and its verifier (scheme + secrets). */
export interface ServedConnector {
  name: string;
  connector: AnyConnector;
  webhooks: WebhookSpec;
  verify: (request: WebhookRequest) => VerifyOutcome;
  maxBodyBytes: number;
}

export interface ListenerOptions {
  host: string;
  port: number;
  connectors: ReadonlyMap<string, ServedConnector>;
  writer: JournalWriter;
  log: Logger;
  /** Whole request, headers and body: a client sending one byte a second is cut off. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** Requests being read, verified or journaled at once; beyond it, 503. */
  maxInFlight: number;
  /** Body bytes held by all requests at once; beyond it, 503. */
  maxBodyBytesInFlight: number;
  /**
   * Why the journal cannot take a delivery now (it failed and has not recovered, its queue is
   * full, its disk has no room), or undefined when it can. Asked for every delivery and for
   * /readyz alike.
   */
  unavailable: () => string | undefined;
  retryAfterSeconds: number;
}

export interface ListenerStats {
  /** Deliveries answered, by HTTP status. */
  byStatus: Map<number, number>;
  stored: number;
  duplicates: number;
  /** Requests being handled now (read, verified or journaled), probes included. */
  readonly inFlight: number;
  /** Body bytes held now by requests being read or journaled. */
  readonly bodyBytesHeld: number;
}

export interface Listener {
  readonly url: string;
  readonly port: number;
  readonly stats: ListenerStats;
  /**
   * Stop taking deliveries: from now on they get 503 + Retry-After and /readyz says 503, while
   * the port stays open (probes and senders get an answer, not a refused connection).
   */
  stopAccepting(): void;
  /** Resolves when every delivery accepted before stopAccepting has been answered (or after graceMs). */
  settled(graceMs: number): Promise<void>;
  /** Closes the port and every connection. */
  close(): Promise<void>;
}

/** Counts and logs one answered delivery. */
type Done = (status: number, details: { event?: string | undefined; id?: string | undefined; reason?: string | undefined }, level?: 'info' | 'warn') => void;

const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/;
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

export async function startListener(options: ListenerOptions): Promise<Listener> {
  const { log } = options;
  let stopping = false;
  let inFlight = 0;
  /** Deliveries past the stop check: their journal write must finish before the drain stops. */
  let accepted = 0;
  let bodyBytes = 0;
  let idle: (() => void) | undefined;
  const stats: ListenerStats = {
    byStatus: new Map(),
    stored: 0,
    duplicates: 0,
    get inFlight() {
      return inFlight;
    },
    get bodyBytesHeld() {
      return bodyBytes;
    },
  };

  /**
   * Why a delivery arriving now would get 503, or undefined when it would be taken. /readyz
   * answers from this same decision: ready means "a delivery now would be stored", so a load
   * balancer never sends deliveries to a listener that refuses them, nor keeps one away that
   * takes them. (`inFlight` counts the asking request too: so many others are being handled.)
   */
  function refusal(): string | undefined {
    if (stopping) return 'shutting down';
    if (inFlight > options.maxInFlight) return 'too many requests in flight';
    if (bodyBytes >= options.maxBodyBytesInFlight) return 'too many bytes in flight';
    return options.unavailable();
  }

  const server: Server = createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(options.headersTimeoutMs, options.requestTimeoutMs),
      // Set explicitly: the default changed between Node releases.
      keepAliveTimeout: 5_000,
      // Timeouts are only as precise as this check.
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(options.requestTimeoutMs / 4))),
    },
    (req, res) => {
      inFlight++;
      handle(req, res)
        .catch((err: unknown) => {
          // The path only: a query may hold the endpoint's token.
          log.error(`internal error while handling ${req.method ?? '?'} ${(req.url ?? '?').split('?', 1)[0] ?? '?'}: ${(err as Error).message}`);
          if (!res.headersSent) reply(res, 500, 'internal error\n', { connection: 'close' });
        })
        .finally(() => {
          inFlight--;
        });
    },
  );
  server.maxHeadersCount = 200;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (path === '/healthz') return probe(req, res, undefined);
    if (path === '/readyz') return probe(req, res, refusal());
    const match = WEBHOOK_PATH.exec(path);
    const connector = match ? options.connectors.get(safeDecode(match[1] ?? '')) : undefined;
    // 404, never 410: some senders disable an endpoint that answers 410.
    if (!connector) return void reply(res, 404, 'not found\n');

    const done: Done = (status, details, level = 'info') => {
      stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
      log[level]('delivery', {
        connector: connector.name,
        event: details.event,
        id: details.id,
        status,
        ms: Math.round(performance.now() - started),
        reason: details.reason,
      });
    };

    const busy = refusal();
    if (busy !== undefined) {
      reply(res, 503, `unavailable: ${busy}; retry later\n`, { 'retry-after': String(options.retryAfterSeconds), connection: 'close' });
      return done(503, { reason: busy }, 'warn');
    }
    accepted++;
    try {
      return await receive(req, res, connector, path, done);
    } finally {
      if (--accepted === 0) idle?.();
    }
  }

  async function receive(req: IncomingMessage, res: ServerResponse, connector: ServedConnector, path: string, done: Done): Promise<void> {
    const cap = connector.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > cap) return tooLarge(req, res, cap, done);
    const reading = readBody(req, cap, (bytes) => {
      if (bodyBytes + bytes > options.maxBodyBytesInFlight) return false;
      bodyBytes += bytes;
      return true;
    });
    try {
      const body = await reading.body;
      if (body === 'too-large') return tooLarge(req, res, cap, done);
      if (body === 'over-budget') {
        const reason = 'too many bytes in flight';
        answerAndClose(req, res, 503, `unavailable: ${reason}; retry later\n`, { 'retry-after': String(options.retryAfterSeconds) });
        return done(503, { reason }, 'warn');
      }
      if (body === 'aborted') return done(400, { reason: 'the request ended before its body was complete' });
      return await verifyAndStore(req, res, connector, path, body, done);
    } finally {
      bodyBytes -= reading.bytesKept();
    }
  }

  async function verifyAndStore(req: IncomingMessage, res: ServerResponse, connector: ServedConnector, path: string, body: Buffer, done: Done): Promise<void> {
    const receivedAt = formatInstant(Date.now() * 1000);
    const request: WebhookRequest = { method: req.method ?? 'POST', url: req.url ?? path, headers: distinctHeaders(req), body };

    const unsigned = connector.webhooks.handshake?.unsigned?.(request);
    if (unsigned) {
      sendReply(res, unsigned);
      return done(unsigned.status, { event: 'handshake' });
    }
    if (request.method !== 'POST') {
      reply(res, 405, 'use POST\n', { allow: 'POST' });
      return done(405, { reason: `method ${request.method}` });
    }

    const verified = connector.verify(request);
    if (!verified.ok) {
      reply(res, 401, 'signature verification failed\n');
      return done(401, { reason: verified.reason }, 'warn');
    }

    const spec = connector.webhooks;
    const needsJson =
      spec.handshake?.signed !== undefined ||
      (spec.eventName !== undefined && 'field' in spec.eventName) ||
      (spec.deliveryId !== undefined && 'path' in spec.deliveryId);
    const json = needsJson ? parseQuietly(body) : undefined;
    const signed = spec.handshake?.signed?.(request, json);
    if (signed) {
      sendReply(res, signed);
      return done(signed.status, { event: 'handshake' });
    }
    const event = eventName(spec, request, json);
    // The id the connector declares wins over the one its scheme reports: a vendor may send both
    // (Shopify: the event id identifies the change, the webhook id only one subscription's copy).
    const deliveryId = declaredDeliveryId(spec, request, json) ?? verified.deliveryId ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
    // Verified now and never again: a token in the URL or a header is not kept on disk.
    const kept = withoutCredentials(spec.scheme, request.url, request.headers);
    let outcome;
    try {
      outcome = await options.writer.append({
        connector: connector.name,
        deliveryId,
        receivedAt,
        event: event ?? null,
        method: request.method,
        url: kept.url,
        headers: kept.headers,
        body,
      });
    } catch (err) {
      if (!(err instanceof JournalUnavailable)) throw err;
      reply(res, 503, `unavailable: ${err.message}; retry later\n`, { 'retry-after': String(options.retryAfterSeconds) });
      return done(503, { event, id: deliveryId, reason: err.message }, 'warn');
    }
    if (outcome === 'stored') stats.stored++;
    else stats.duplicates++;
    // A duplicate is already stored: 2xx, or the sender would keep retrying it.
    if (spec.accepted) sendReply(res, spec.accepted(request));
    else reply(res, 200, `${outcome}\n`);
    return done(200, { event, id: deliveryId, reason: outcome === 'duplicate' ? 'duplicate' : undefined });
  }

  function probe(req: IncomingMessage, res: ServerResponse, problem: string | undefined): void {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void reply(res, 405, 'use GET\n', { allow: 'GET, HEAD' });
    if (problem === undefined) return void reply(res, 200, 'ok\n');
    reply(res, 503, `not ready: ${problem}\n`, { 'retry-after': String(options.retryAfterSeconds) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: a burst of senders is queued by the kernel instead of refused.
    server.listen(options.port, options.host, 4_096, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats,
    stopAccepting() {
      stopping = true;
      // Keep-alive connections that are idle now would only bring more deliveries to refuse.
      server.closeIdleConnections();
    },
    async settled(graceMs) {
      if (accepted === 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...TEXT, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function sendReply(res: ServerResponse, answer: WebhookReply): void {
  reply(res, answer.status, answer.body, answer.headers ?? {});
}

function tooLarge(req: IncomingMessage, res: ServerResponse, cap: number, done: Done): void {
  answerAndClose(req, res, 413, `body larger than ${cap} bytes\n`);
  done(413, { reason: `body larger than ${cap} bytes` }, 'warn');
}

/**
 * Answers, then closes the connection: the rest of the body is never read into memory. The
 * socket lingers a moment, discarding input, so the client can read the answer before it closes.
 */
function answerAndClose(req: IncomingMessage, res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  req.removeAllListeners('data');
  req.on('data', () => {});
  req.resume();
  res.on('finish', () => {
    const socket = req.socket;
    socket.end();
    setTimeout(() => socket.destroy(), 200).unref();
  });
  reply(res, status, body, { ...headers, connection: 'close' });
}

/**
 * Every header by lower-case name, each value kept apart (a repeated signature header must
 * stay visible). Built from rawHeaders directly: `headersDistinct` builds an object of its own
 * first, and a header named `__proto__` must not become the prototype.
 */
function distinctHeaders(req: IncomingMessage): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const values = out[name];
    if (values) values.push(value);
    else out[name] = [value];
  }
  return out;
}

function eventName(spec: WebhookSpec, request: WebhookRequest, json: JsonValue | undefined): string | undefined {
  const where = spec.eventName;
  if (!where) return undefined;
  if ('header' in where) return request.headers[where.header.toLowerCase()]?.[0];
  const value = isJsonObject(json) ? json[where.field] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function parseQuietly(body: Buffer): JsonValue | undefined {
  try {
    return parseJson(body.toString('utf8')).value;
  } catch {
    return undefined;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The delivery id where the connector says it is (header or body path), when the scheme gives none. */
function declaredDeliveryId(spec: WebhookSpec, request: WebhookRequest, json: JsonValue | undefined): string | undefined {
  const where = spec.deliveryId;
  if (!where) return undefined;
  if ('header' in where) {
    const value = request.headers[where.header.toLowerCase()]?.[0];
    return value === undefined || value === '' ? undefined : value;
  }
  let at: JsonValue | undefined = json;
  for (const part of where.path.split('.')) at = isJsonObject(at) ? at[part] : undefined;
  if (typeof at === 'string' && at !== '') return at;
  if (typeof at === 'number' || at instanceof LosslessNumber) return String(at);
  return undefined;
}
