import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../src/log.js';

/** A real HTTP server on 127.0.0.1 and a random port, standing in for a SaaS API. */

export interface SeenRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest, index: number) => unknown;

export interface TestServer {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const index = seen.push(entry) - 1;
      Promise.resolve(handler(req, res, entry, index)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Records the waits the client asks for and returns at once, so tests of long waits stay fast. */
export function recordingSleep(): { waits: number[]; sleep: (ms: number, signal?: AbortSignal) => Promise<void> } {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms, signal) => {
      waits.push(ms);
      return signal?.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve();
    },
  };
}

/**
 * A clock that moves only when the test moves it: `sleep` resolves once `advanceTo` has
 * reached its end, so a test sees which waits are pending and lets them go one at a time,
 * whatever the machine's load.
 */
export function manualClock(): {
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  advanceTo: (time: number) => void;
  /** When the pending waits end, soonest first. */
  pending: () => number[];
} {
  let time = 0;
  const waits: Array<{ end: number; resolve: () => void }> = [];
  return {
    now: () => time,
    sleep: (ms, signal) => {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      return new Promise((resolve) => waits.push({ end: time + ms, resolve }));
    },
    advanceTo: (to) => {
      time = Math.max(time, to);
      for (const wait of waits.filter((w) => w.end <= time)) {
        waits.splice(waits.indexOf(wait), 1);
        wait.resolve();
      }
    },
    pending: () => waits.map((w) => w.end).sort((a, b) => a - b),
  };
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export function memoryLogger(): { lines: LogLine[]; log: Logger } {
  const lines: LogLine[] = [];
  return {
    lines,
    log: {
      debug: (message) => lines.push({ level: 'debug', message }),
      info: (message) => lines.push({ level: 'info', message }),
      warn: (message) => lines.push({ level: 'warn', message }),
      error: (message) => lines.push({ level: 'error', message }),
    },
  };
}
