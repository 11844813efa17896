/**
 * Waits until `condition` holds, polling every 50 ms: tests wait on what they need, never on a
 * clock. A condition that throws is "not yet" (a table not created yet, a file not written);
 * after `timeoutMs` the wait fails naming `what`, with the last error, so a hung test says why.
 */
export async function until(condition: () => boolean | Promise<boolean>, what = 'a condition', timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
