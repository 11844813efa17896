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

export interface ReaderWatch {
  /** True once a write to stdout failed because nobody reads it any more. */
  gone(): boolean;
  stop(): void;
}

/** Watches stdout for its reader going away; start it before anything is written. */
export function watchReader(stdout: NodeJS.WritableStream): ReaderWatch {
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
