import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyConnector, WebhookReply, WebhookRequest, WebhookSpec } from '../connector/contract.js';
import type { Logger } from '../log.js';
import { formatInstant } from '../protocol/instant.js';
import { isJsonObject, LosslessNumber, parseJson, type JsonValue } from '../protocol/json.js';
import { percentDecoded } from '../url-text.js';
import { readBody } from './body.js';
import { JournalUnavailable, type JournalWriter } from './journal-writer.js';
import type { ConnectorRecorder, ListenMetrics, Outcome, UnavailableReason } from './metrics.js';
import { withoutCredentials, type RefusalReason } from './verify/index.js';

/**
 * The HTTP side of `sync listen`: raw bytes in under a cap, verify, append to the journal,
 * and only then 2xx. Nothing here parses a body before its signature passed, and nothing is
 * answered 2xx that is not on disk. Mapping and the target are the drain's business.
 */

export type VerifyOutcome =
  | { ok: true; deliveryId?: string | undefined }
  /** `reason` for the log (the connector may add details); `refusal` the verifier's fixed text, for the metrics label. */
  | { ok: false; reason: string; refusal: RefusalReason };

/** Why a delivery arriving now would get 503: the text for the answer and the log, a fixed label for the metrics. */
export interface Unavailable {
  text: string;
  label: UnavailableReason;
}

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
  unavailable: () => Unavailable | undefined;
  retryAfterSeconds: number;
  /** Counts every answered webhook request and serves `GET /metrics`; without it /metrics is 404. */
  metrics?: ListenMetrics | undefined;
  /** False: the metrics are served on a port of their own (`startMetricsServer`), and /metrics here is 404. Default true. */
  serveMetrics?: boolean;
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

/**
 * Counts and logs one answered delivery. `label` is the metrics' reason: a fixed text, set for
 * `refused` and `unavailable` only (`details.reason` may carry details for the log).
 */
type Done = (
  status: number,
  outcome: Outcome,
  details: { event?: string | undefined; id?: string | undefined; reason?: string | undefined },
  level?: 'info' | 'warn',
  label?: RefusalReason | UnavailableReason,
) => void;

const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/;
// The listener's own reasons, built once: a refused request allocates nothing for its reason.
const SHUTTING_DOWN: Unavailable = { text: 'shutting down', label: 'shutting down' };
const TOO_MANY_REQUESTS: Unavailable = { text: 'too many requests in flight', label: 'too many requests in flight' };
const TOO_MANY_BYTES: Unavailable = { text: 'too many bytes in flight', label: 'too many bytes in flight' };
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
  function refusal(): Unavailable | undefined {
    if (stopping) return SHUTTING_DOWN;
    if (inFlight > options.maxInFlight) return TOO_MANY_REQUESTS;
    if (bodyBytes >= options.maxBodyBytesInFlight) return TOO_MANY_BYTES;
    return options.unavailable();
  }

  const { metrics } = options;
  /** Resolved once: the hot path finds its connector's series by the ServedConnector it already has. */
  const recorders = new Map<ServedConnector, ConnectorRecorder | undefined>([...options.connectors.values()].map((c) => [c, metrics?.connector(c.name)]));

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
          metrics?.unroutedRequest('error');
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
    if (path === '/readyz') return probe(req, res, refusal()?.text);
    if (path === '/metrics' && metrics && options.serveMetrics !== false) return exposition(req, res, metrics);
    const match = WEBHOOK_PATH.exec(path);
    const connector = match ? options.connectors.get(percentDecoded(match[1] ?? '')) : undefined;
    if (!connector) {
      metrics?.unroutedRequest('not_found');
      // 404, never 410: some senders disable an endpoint that answers 410.
      return reply(res, 404, 'not found\n');
    }
    const recorder = recorders.get(connector);

    const done: Done = (status, outcome, details, level = 'info', label) => {
      const ms = performance.now() - started;
      stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
      recorder?.answered(status, outcome, label, ms / 1000);
      log[level]('delivery', {
        connector: connector.name,
        event: details.event,
        id: details.id,
        status,
        ms: Math.round(ms),
        reason: details.reason,
      });
    };

    const busy = refusal();
    if (busy !== undefined) {
      reply(res, 503, `unavailable: ${busy.text}; retry later\n`, { 'retry-after': String(options.retryAfterSeconds), connection: 'close' });
      return done(503, 'unavailable', { reason: busy.text }, 'warn', busy.label);
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
        const reason = TOO_MANY_BYTES;
        answerAndClose(req, res, 503, `unavailable: ${reason.text}; retry later\n`, { 'retry-after': String(options.retryAfterSeconds) });
        return done(503, 'unavailable', { reason: reason.text }, 'warn', reason.label);
      }
      if (body === 'aborted') return done(400, 'aborted', { reason: 'the request ended before its body was complete' });
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
      return done(unsigned.status, 'handshake', { event: 'handshake' });
    }
    if (request.method !== 'POST') {
      reply(res, 405, 'use POST\n', { allow: 'POST' });
      return done(405, 'method_not_allowed', { reason: `method ${request.method}` });
    }

    const verified = connector.verify(request);
    if (!verified.ok) {
      reply(res, 401, 'signature verification failed\n');
      return done(401, 'refused', { reason: verified.reason }, 'warn', verified.refusal);
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
      return done(signed.status, 'handshake', { event: 'handshake' });
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
      return done(503, 'unavailable', { event, id: deliveryId, reason: err.message }, 'warn', err.diskFull ? 'disk full' : 'journal unavailable');
    }
    if (outcome === 'stored') stats.stored++;
    else stats.duplicates++;
    // A duplicate is already stored: 2xx, or the sender would keep retrying it.
    if (spec.accepted) sendReply(res, spec.accepted(request));
    else reply(res, 200, `${outcome}\n`);
    return done(200, outcome, { event, id: deliveryId, reason: outcome === 'duplicate' ? 'duplicate' : undefined });
  }

  function probe(req: IncomingMessage, res: ServerResponse, problem: string | undefined): void {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'use GET\n', { allow: 'GET, HEAD' });
    if (problem === undefined) return reply(res, 200, 'ok\n');
    reply(res, 503, `not ready: ${problem}\n`, { 'retry-after': String(options.retryAfterSeconds) });
  }

  // A deep accept queue: a burst of senders is queued by the kernel instead of refused.
  const address = await listenOn(server, options.host, options.port, 4_096);

  return {
    url: address.url,
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

/** A port serving `GET /metrics` only (`sync listen --metrics-port`): scraped apart from where senders deliver. */
export interface MetricsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: { host: string; port: number; metrics: ListenMetrics; log: Logger }): Promise<MetricsServer> {
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (path !== '/metrics') {
      req.resume();
      return reply(res, 404, 'not found\n');
    }
    exposition(req, res, options.metrics).catch((err: unknown) => {
      options.log.error(`internal error while serving /metrics: ${(err as Error).message}`);
      reply(res, 500, 'internal error\n', { connection: 'close' });
    });
  });
  const address = await listenOn(server, options.host, options.port, 511);
  return {
    url: address.url,
    port: address.port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Binds `server`; resolves with the address it got (the chosen port for port 0), rejects with the bind error (EADDRINUSE…). */
async function listenOn(server: Server, host: string, port: number, backlog: number): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, backlog, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${shown}:${address.port}`, port: address.port };
}

/** `GET /metrics`: counted journal backlog and all; never a delivery's id, URL or body. */
async function exposition(req: IncomingMessage, res: ServerResponse, registry: ListenMetrics): Promise<void> {
  req.resume();
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'use GET\n', { allow: 'GET, HEAD' });
  const text = await registry.exposition();
  if (res.headersSent) return;
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(req.method === 'HEAD' ? undefined : text);
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
  done(413, 'too_large', { reason: `body larger than ${cap} bytes` }, 'warn');
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
  if ('header' in where) return firstHeader(request, where.header);
  const value = isJsonObject(json) ? json[where.field] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The value of the first of these headers that the request has, not empty. */
function firstHeader(request: WebhookRequest, names: string | readonly string[]): string | undefined {
  for (const name of typeof names === 'string' ? [names] : names) {
    const value = request.headers[name.toLowerCase()]?.[0];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

function parseQuietly(body: Buffer): JsonValue | undefined {
  try {
    return parseJson(body.toString('utf8')).value;
  } catch {
    return undefined;
  }
}

/** The delivery id where the connector says it is (header or body path), when the scheme gives none. */
function declaredDeliveryId(spec: WebhookSpec, request: WebhookRequest, json: JsonValue | undefined): string | undefined {
  const where = spec.deliveryId;
  if (!where) return undefined;
  if ('header' in where) return firstHeader(request, where.header);
  let at: JsonValue | undefined = json;
  for (const part of where.path.split('.')) at = isJsonObject(at) ? at[part] : undefined;
  if (typeof at === 'string' && at !== '') return at;
  if (typeof at === 'number' || at instanceof LosslessNumber) return String(at);
  return undefined;
}
