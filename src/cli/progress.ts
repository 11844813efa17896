import type { CliIo } from './io.js';

/**
 * Per-stream record counts. On a terminal (stderr is a TTY, not --quiet) they are drawn as
 * cli-progress bars, refreshed on a timer rather than per record; elsewhere (cron, pipes)
 * nothing is drawn and only the summary line is logged at the end.
 */
export interface Progress {
  record(stream: string): void;
  counts(): Map<string, number>;
  total(): number;
  stop(): void;
}

export async function createProgress(io: CliIo, enabled: boolean): Promise<Progress> {
  const counts = new Map<string, number>();
  const base = {
    record(stream: string) {
      counts.set(stream, (counts.get(stream) ?? 0) + 1);
    },
    counts: () => counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
  };
  if (!enabled || !io.stderr.isTTY) return { ...base, stop() {} };

  // cli-progress is CommonJS: its exports arrive as the default export.
  const loaded = await import('cli-progress');
  const { MultiBar, Presets } = (loaded as unknown as { default: typeof loaded }).default ?? loaded;
  const startedAt = new Map<string, number>();
  const multi = new MultiBar(
    {
      stream: io.stderr as NodeJS.WritableStream & NodeJS.WriteStream,
      format: ' {stream} | {value} records | {rate}/s',
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    Presets.shades_classic,
  );
  const bars = new Map<string, ReturnType<InstanceType<typeof MultiBar>['create']>>();
  const render = (): void => {
    const now = Date.now();
    for (const [stream, n] of counts) {
      if (!startedAt.has(stream)) startedAt.set(stream, now);
      const seconds = Math.max((now - (startedAt.get(stream) as number)) / 1000, 0.1);
      let bar = bars.get(stream);
      if (!bar) {
        bar = multi.create(0, 0, { stream, rate: '0' });
        bars.set(stream, bar);
      }
      bar.update(n, { stream, rate: formatCount(Math.round(n / seconds)) });
    }
  };
  const timer = setInterval(render, 100);
  timer.unref();
  return {
    ...base,
    stop() {
      clearInterval(timer);
      render();
      multi.stop();
    },
  };
}

const SUMMARY_STREAMS = 20;

/** `customers 100, orders 500 (600 records in 0.4 s, 1,500/s)` */
export function summarize(counts: Map<string, number>, millis: number): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const parts = [...counts].slice(0, SUMMARY_STREAMS).map(([s, n]) => `${s} ${formatCount(n)}`);
  // Ten thousand streams would make one unreadable line: the first few, and how many more.
  if (counts.size > SUMMARY_STREAMS) parts.push(`${formatCount(counts.size - SUMMARY_STREAMS)} more streams`);
  const seconds = millis / 1000;
  const rate = seconds > 0 ? `, ${formatCount(Math.round(total / seconds))}/s` : '';
  return `${parts.length ? parts.join(', ') + ' ' : ''}(${formatCount(total)} ${total === 1 ? 'record' : 'records'} in ${seconds.toFixed(1)} s${rate})`;
}

/**
 * `1234567` → `1,234,567`. Written out because the first `toLocaleString` loads ICU data,
 * which costs more start-up time than a short run takes.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return String(n);
  const digits = String(Math.abs(n));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3) out = digits.slice(Math.max(0, end - 3), end) + (out === '' ? '' : ',' + out);
  return n < 0 ? '-' + out : out;
}
