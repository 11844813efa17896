/**
 * A reader that stops early (`sync run sample --target - | head -3`) closes the pipe, and the
 * next write to stdout fails with EPIPE. That is how a pipe ends, not a failure of the sync:
 * the command stops without an error line and exits 141, the status of a producer killed by
 * SIGPIPE (128 + 13), as `cat` or `yes` would. Node ignores SIGPIPE, so the status is ours
 * to give.
 */
export class ReaderGoneError extends Error {
  override name = 'ReaderGoneError';
  constructor() {
    super('the reading process closed stdout');
  }
}

export const READER_GONE_EXIT_CODE = 141;

/**
 * Runs `work` with `stdout` watched for its reader going away (nothing is watched without one:
 * the target is not stdout). `readerGone` is true once a write failed because nobody reads any
 * more; whatever error that write then caused, the reader leaving is what is thrown.
 */
export async function withReaderWatched<T>(stdout: NodeJS.WritableStream | undefined, work: (readerGone: () => boolean) => Promise<T>): Promise<T> {
  const reader = stdout ? watchReader(stdout) : undefined;
  const readerGone = (): boolean => reader?.gone() === true;
  try {
    return await work(readerGone);
  } catch (err) {
    if (readerGone()) throw new ReaderGoneError();
    throw err;
  } finally {
    reader?.stop();
  }
}

/** Watches stdout for its reader going away; started before anything is written. */
function watchReader(stdout: NodeJS.WritableStream): { gone: () => boolean; stop: () => void } {
  let gone = false;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') gone = true;
  };
  stdout.on('error', onError);
  return {
    gone: () => gone,
    stop: () => void stdout.off('error', onError),
  };
}
