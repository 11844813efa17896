import { UsageError } from '../errors.js';
import { createHttpClient, type HttpClient } from '../http/index.js';
import type { Logger } from '../log.js';
import type { RunRecord } from '../targets/history.js';
import { percentDecoded } from '../url-text.js';
import { addSecret, type CliIo } from './io.js';

/**
 * `sync run --ping URL`: a dead-man's switch in the healthchecks.io / Cronitor convention.
 * `URL/start` when the run starts, `URL` when it succeeds, `URL/fail` with the error line as
 * the body when it fails; the service alarms when a success stops arriving. A ping that fails
 * is a warning, never a failed sync. The URL is a credential (whoever knows it can report
 * success): it is scrubbed from every line, and named only by its origin.
 */

export interface Pinger {
  start(): Promise<void>;
  finish(run: RunRecord): Promise<void>;
  close(): Promise<void>;
}

/** A ping must never hold a run up for long: a few seconds, one retry. */
const PING_TIMEOUT_MS = 5_000;

export function createPinger(text: string, log: Logger, io: CliIo): Pinger {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('--ping must be an http:// or https:// URL (such as https://hc-ping.com/<uuid>)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--ping must be an http:// or https:// URL (such as https://hc-ping.com/<uuid>)');
  // The whole URL and each long part of it: a server's error may echo any of them.
  addSecret(io, text);
  addSecret(io, url.href);
  for (const part of [...url.pathname.split('/'), ...url.searchParams.values(), url.password]) if (part.length >= 8) addSecret(io, percentDecoded(part));
  const shown = `${url.origin}/…`;
  const http: HttpClient = createHttpClient({
    timeouts: { connectMs: PING_TIMEOUT_MS, headersMs: PING_TIMEOUT_MS, bodyMs: PING_TIMEOUT_MS },
    retry: { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 1_000 },
    secrets: io.secrets,
    userAgent: 'sync-cli',
  });
  const at = (suffix: string): string => {
    const u = new URL(url.href);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}${suffix}`;
    return u.href;
  };
  const send = async (what: string, path: string, body?: string): Promise<void> => {
    try {
      await http.request(body === undefined ? { method: 'GET', path } : { method: 'POST', path, body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    } catch (err) {
      log.warn(`the ${what} ping to ${shown} failed: ${(err as Error).message}`);
    }
  };
  return {
    start: () => send('start', at('/start')),
    finish: (run) => (run.exitCode === 0 ? send('success', at('')) : send('failure', at('/fail'), run.error ?? `exit ${run.exitCode}`)),
    close: () => http.close(),
  };
}
