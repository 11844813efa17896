import type { IncomingMessage } from 'node:http';

export type BodyResult = Buffer | 'too-large' | 'over-budget' | 'aborted';

/**
 * Reads a request body as bytes, never as text: a multi-byte character split between two
 * chunks stays intact, so the signature is checked on exactly what was sent. Stops keeping
 * bytes past the cap (the caller answers 413 and closes the connection). `admit(n)` is asked
 * before keeping each chunk: a budget shared by all requests, so many large bodies at once
 * cannot exhaust memory; the caller gives `bytesKept()` back when it is done with the body.
 */
export function readBody(req: IncomingMessage, cap: number, admit: (bytes: number) => boolean = () => true): { body: Promise<BodyResult>; bytesKept: () => number } {
  let size = 0;
  const body = new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > cap) {
        chunks.length = 0;
        finish('too-large');
        return;
      }
      if (!admit(chunk.length)) {
        chunks.length = 0;
        finish('over-budget');
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(joinChunks(chunks, size)));
    req.once('error', () => finish('aborted'));
    req.once('close', () => {
      if (!req.complete) finish('aborted');
    });
  });
  return { body, bytesKept: () => size };
}

/**
 * The chunks in one buffer of its own. `Buffer.concat` takes small buffers from the shared
 * 8 KiB pool, and posting a view of the pool to the journal thread copies all 8 KiB of it,
 * for every delivery.
 */
function joinChunks(chunks: readonly Buffer[], size: number): Buffer {
  const body = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(body, at);
  return body;
}
