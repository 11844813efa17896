import { Readable, type Transform } from 'node:stream';
import ndjson from 'ndjson';
import { Agent } from 'undici';
import { SourceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JsonValue } from '../protocol/json.js';
import { defaultSleep, type Sleep } from './budget.js';
import type { HttpClient } from './client.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, describeFailure, failureFromError, isRetriable } from './retry.js';

/**
 * Server-side exports (Shopify bulk operations, Salesforce Bulk API 2.0 query jobs): a job is
 * started, polled until it ends, and its result downloaded as a file of JSON lines. The
 * vendor's part is three small functions (start, poll, read a status); the waiting, the
 * download and the line reading are here, once.
 *
 * Start and poll go through the run's shared client (auth, retries, cost pacing, recordings).
 * The result is a pre-signed URL on a storage host: it is downloaded without the API's
 * credentials (they would leak to that host), streamed rather than held in memory (an export
 * of a large account runs to gigabytes), and resumed with a Range request where it broke off.
 * Its query string is the signature, so messages name only its host and path.
 */

export type ExportOutcome =
  | { state: 'running'; detail?: string }
  /** `url` undefined: the job found nothing to export. */
  | { state: 'done'; url: string | undefined }
  | { state: 'failed'; reason: string };

export interface ExportJob<Status> {
  /** What is exported, for messages (`Shopify bulk export of orders`). */
  name: string;
  start(client: HttpClient): Promise<Status>;
  poll(client: HttpClient, last: Status): Promise<Status>;
  outcome(status: Status): ExportOutcome;
}

export interface ExportJobOptions {
  log: Logger;
  signal: AbortSignal;
  /** Waits between polls: the first, growing by half each time up to the last. Default 500 ms to 15 s. */
  pollMs?: { first: number; max: number };
  /** Download attempts in all, the first included (default 5). */
  downloadAttempts?: number;
  /** Injected for tests that must not wait: resolves after `ms`, rejects when `signal` aborts. */
  sleep?: Sleep;
}

/** Longest line accepted in a result file, as for Singer input: beyond it the export fails. */
const MAX_LINE_BYTES = 128 * 1024 * 1024;

/** Starts the job and polls it until it ends; the result's URL (undefined: nothing exported). */
export async function awaitExport<Status>(client: HttpClient, job: ExportJob<Status>, options: ExportJobOptions): Promise<string | undefined> {
  const sleep = options.sleep ?? defaultSleep;
  const { first, max } = options.pollMs ?? { first: 500, max: 15_000 };
  let status = await job.start(client);
  let wait = first;
  let polls = 0;
  for (;;) {
    const outcome = job.outcome(status);
    if (outcome.state === 'done') {
      options.log.debug(`${job.name} complete after ${polls} polls${outcome.url === undefined ? ', nothing to export' : ''}`);
      return outcome.url;
    }
    if (outcome.state === 'failed') throw new SourceError(`${job.name} failed: ${outcome.reason}`);
    options.log.debug(`${job.name} running${outcome.detail === undefined ? '' : ` (${outcome.detail})`}; next poll in ${wait} ms`);
    await sleep(wait, options.signal);
    status = await job.poll(client, status);
    polls++;
    wait = Math.min(max, Math.ceil(wait * 1.5));
  }
}

/** The values of a JSON-lines file at `url`, in file order, streamed. */
export async function* readJsonLines(url: string, options: ExportJobOptions): AsyncGenerator<JsonValue> {
  // The type package describes ndjson's old `through` stream; the object is split2's Transform.
  const lineOptions = { strict: true, maxLength: MAX_LINE_BYTES };
  const parser = ndjson.parse(lineOptions) as unknown as Transform;
  const source = Readable.from(downloadChunks(url, options));
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  try {
    // ndjson parses with JSON.parse: integers beyond 2^53 would be rounded. Exports that hold
    // such numbers as text (Shopify: ids are gids, counts UnsignedInt64 text) are safe.
    for await (const value of parser) yield value as JsonValue;
  } catch (err) {
    if (err instanceof SourceError || options.signal.aborted) throw err;
    throw new SourceError(`reading the export at ${where(url)}: ${(err as Error).message}`, err);
  } finally {
    source.destroy();
    parser.destroy();
  }
}

/** Starts the job, waits for it, and yields the values of its result file in order. */
export async function* runExport<Status>(client: HttpClient, job: ExportJob<Status>, options: ExportJobOptions): AsyncGenerator<JsonValue> {
  const url = await awaitExport(client, job, options);
  if (url !== undefined) yield* readJsonLines(url, options);
}

/**
 * The file's bytes, in order, each once: after a broken connection or a retriable status the
 * download asks for the rest (`Range: bytes=<offset>-`); a server that answers the whole file
 * again (200) has the bytes already delivered skipped.
 */
async function* downloadChunks(url: string, options: ExportJobOptions): AsyncGenerator<Buffer> {
  const sleep = options.sleep ?? defaultSleep;
  const attempts = options.downloadAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts;
  const target = new URL(url);
  const agent = new Agent({ connectTimeout: 10_000, headersTimeout: 60_000, bodyTimeout: 120_000 });
  let offset = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      let problem: string;
      try {
        const response = await agent.request({
          origin: target.origin,
          path: target.pathname + target.search,
          method: 'GET',
          // Plain bytes: a byte offset into a compressed transfer means nothing.
          headers: { 'user-agent': 'sync', 'accept-encoding': 'identity', ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) },
          signal: options.signal,
        });
        const status = response.statusCode;
        const resumed = status === 206 && offset > 0 && rangeStart(response.headers['content-range']) === offset;
        if (status === 200 || resumed) {
          let skip = status === 200 ? offset : 0;
          for await (const data of response.body) {
            let chunk = data as Buffer;
            if (skip > 0) {
              const dropped = Math.min(skip, chunk.length);
              skip -= dropped;
              chunk = chunk.subarray(dropped);
              if (chunk.length === 0) continue;
            }
            offset += chunk.length;
            yield chunk;
          }
          if (skip === 0) return;
          problem = 'the file is shorter than what was already read';
        } else {
          await response.body.dump();
          const failure = { kind: 'status' as const, status, rateLimited: status === 429 };
          if (!isRetriable(failure, DEFAULT_RETRY_POLICY)) throw new SourceError(`downloading the export at ${where(url)}: answered ${status}`);
          problem = `answered ${status}`;
        }
      } catch (err) {
        if (err instanceof SourceError || options.signal.aborted) throw err;
        const failure = failureFromError(err);
        if (failure === undefined) throw err;
        problem = describeFailure(failure);
      }
      if (attempt >= attempts) throw new SourceError(`downloading the export at ${where(url)} failed after ${attempt} attempts: ${problem}`);
      const wait = backoffDelay(attempt, DEFAULT_RETRY_POLICY, Math.random);
      options.log.warn(`download of the export at ${where(url)} broke off at byte ${offset} (${problem}); resuming in ${Math.ceil(wait / 1000)} s`);
      await sleep(wait, options.signal);
    }
  } finally {
    // The consumer may stop early: drop the connection rather than read the rest.
    await agent.destroy();
  }
}

/** `bytes 1000-1999/5000` → 1000. */
function rangeStart(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value === undefined ? null : /^bytes (\d+)-/.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** A URL for messages: host and path, never the query (a pre-signed URL's signature). */
function where(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
}
