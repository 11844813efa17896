/**
 * The chunks of a readable stream until it ends or `signal` aborts. An abort destroys the
 * stream, which ends the iteration at once, even while a read is waiting (a tap that went
 * quiet, or one long line still arriving), so SIGTERM is never held up by input. (Racing
 * each read against the signal instead costs a promise per chunk.)
 */
export async function* readChunks(stream: NodeJS.ReadableStream, signal: AbortSignal): AsyncGenerator<Buffer> {
  const onAbort = (): void => destroy(stream);
  if (signal.aborted) return onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      // Read again after each await (the check above the loop does not hold for ever).
      if (signal.aborted as boolean) return;
    }
  } catch (err) {
    // A stream destroyed by the abort reports a premature close: that is the abort, not a failure.
    if (!(signal.aborted as boolean)) throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  const destroyable = stream as NodeJS.ReadableStream & { destroy?: () => void };
  destroyable.destroy?.();
}
