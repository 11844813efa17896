import { statfsSync } from 'node:fs';

/**
 * Free space where the journal lives. Below the minimum, deliveries get 503 (the sender
 * retries later) instead of a failed write halfway, and /readyz reports it. Checked at most
 * once a second: statfs is cheap but not free on the hot path.
 */
export class DiskRoom {
  private checkedAt = 0;
  private problem: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly minFreeBytes: number,
  ) {}

  /** Why there is not enough room, or undefined when there is. */
  check(): string | undefined {
    const now = Date.now();
    if (now - this.checkedAt < 1_000) return this.problem;
    this.checkedAt = now;
    try {
      const stats = statfsSync(this.dir);
      const free = stats.bavail * stats.bsize;
      this.problem = free < this.minFreeBytes ? `only ${megabytes(free)} free on the journal's disk (at least ${megabytes(this.minFreeBytes)} needed)` : undefined;
    } catch (err) {
      this.problem = `cannot check the journal's disk: ${(err as Error).message}`;
    }
    return this.problem;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}
