import type { Target } from '../targets/target.js';
import type { CliIo } from './io.js';

/**
 * Per-stream record counts. On a terminal (stderr is a TTY, not --quiet) each stream gets a
 * line, redrawn on a timer rather than per record: its count, rate and elapsed time, and a
 * done mark once it has finished. Elsewhere (cron, pipes) nothing is drawn and only the
 * summary line is logged at the end.
 */
export interface Progress {
  /** A stream begins (its SCHEMA arrived): shown from now on, even before its first record. */
  start(stream: string): void;
  record(stream: string): void;
  /** No more records will come for `stream`: its line keeps its final count and rate. */
  finish(stream: string): void;
  /** Records per stream, for streams that had any. */
  counts(): Map<string, number>;
  total(): number;
  stop(): void;
}

/** One stream as its progress line shows it. */
export interface StreamProgress {
  stream: string;
  records: number;
  /** Milliseconds since the stream started, up to when it finished if it has. */
  elapsedMs: number;
  done: boolean;
}

export async function createProgress(io: CliIo, enabled: boolean): Promise<Progress> {
  const counts = new Map<string, number>();
  const startedAt = new Map<string, number>();
  const finishedAt = new Map<string, number>();
  const start = (stream: string): void => {
    if (!startedAt.has(stream)) startedAt.set(stream, Date.now());
  };
  const base = {
    start,
    record(stream: string) {
      counts.set(stream, (counts.get(stream) ?? 0) + 1);
    },
    finish(stream: string) {
      start(stream);
      if (!finishedAt.has(stream)) finishedAt.set(stream, Date.now());
    },
    counts: () => counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
  };
  if (!enabled || !io.stderr.isTTY) return { ...base, stop() {} };

  // Loaded only when drawn: pipes and cron never pay for it.
  const { MultiBar } = await import('cli-progress');
  const multi = new MultiBar({
    stream: io.stderr,
    format: '{line}',
    hideCursor: true,
    clearOnComplete: true,
    fps: 10,
  });
  const bars = new Map<string, ReturnType<InstanceType<typeof MultiBar>['create']>>();
  const render = (): void => {
    const now = Date.now();
    // Records may come for a stream nobody announced (a tap that sends no SCHEMA first).
    for (const stream of counts.keys()) if (!startedAt.has(stream)) startedAt.set(stream, now);
    const width = nameWidth(startedAt);
    for (const [stream, began] of startedAt) {
      const shown: StreamProgress = {
        stream,
        records: counts.get(stream) ?? 0,
        elapsedMs: (finishedAt.get(stream) ?? now) - began,
        done: finishedAt.has(stream),
      };
      const line = formatStreamLine(shown, width, io.stderr.columns);
      let bar = bars.get(stream);
      if (!bar) bars.set(stream, (bar = multi.create(0, 0, { line })));
      bar.update(shown.records, { line });
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

function nameWidth(streams: Map<string, number>): number {
  let width = 0;
  for (const stream of streams.keys()) width = Math.max(width, stream.length);
  return Math.min(width, 40);
}

/**
 * ` orders      12,345 records   4,567/s   2.7 s  ✓`: what a stream's line says. The rate is
 * over the stream's own time, up to when it finished, so a finished stream keeps its rate.
 * On a narrow terminal the rate, then the time go first, and a long name is shortened:
 * numbers are never cut.
 */
export function formatStreamLine(progress: StreamProgress, nameWidth: number, columns: number | undefined): string {
  const count = `${formatCount(progress.records)} ${progress.records === 1 ? 'record' : 'records'}`;
  const seconds = progress.elapsedMs / 1000;
  const rate = seconds >= 0.1 ? `${formatCount(Math.round(progress.records / seconds))}/s` : '';
  const time = formatDuration(progress.elapsedMs);
  const mark = progress.done ? '✓' : ' ';
  const width = columns === undefined || columns <= 0 ? Number.POSITIVE_INFINITY : columns - 1;
  const variants = [
    [count, rate, time],
    [count, time],
    [count],
  ];
  for (const parts of variants) {
    const tail = `  ${parts.filter(Boolean).join('   ')}  ${mark}`;
    const room = width - tail.length - 1;
    if (room >= nameWidth || parts.length === 1) {
      return ` ${fitName(progress.stream, Math.min(nameWidth, Math.max(room, 1)))}${tail}`.trimEnd();
    }
  }
  return '';
}

function fitName(name: string, width: number): string {
  if (name.length <= width) return name.padEnd(width);
  return width <= 1 ? name.slice(0, width) : `${name.slice(0, width - 1)}…`;
}

/** `0.4 s`, `12.3 s`, `2 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

const SUMMARY_STREAMS = 20;

/**
 * `customers 100, orders 500 (600 records in 0.4 s, 1,500/s)`; with no record at all,
 * `nothing new (0.2 s)` or whatever `empty` says. Each note follows inside the brackets,
 * after `; `.
 */
export function summarize(counts: Map<string, number>, millis: number, empty = 'no records', notes: readonly string[] = []): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const seconds = millis / 1000;
  const noted = notes.map((n) => `; ${n}`).join('');
  if (total === 0) return `${empty} (${seconds.toFixed(1)} s${noted})`;
  const parts = [...counts].slice(0, SUMMARY_STREAMS).map(([s, n]) => `${s} ${formatCount(n)}`);
  // Ten thousand streams would make one unreadable line: the first few, and how many more.
  if (counts.size > SUMMARY_STREAMS) parts.push(`${formatCount(counts.size - SUMMARY_STREAMS)} more streams`);
  const rate = seconds > 0 ? `, ${formatCount(Math.round(total / seconds))}/s` : '';
  return `${parts.join(', ')} (${formatCount(total)} ${total === 1 ? 'record' : 'records'} in ${seconds.toFixed(1)} s${rate}${noted})`;
}

/** What the target had to change to store the rows (`1 character stored as U+FFFD`), for `summarize`'s notes. */
export function targetNotes(target: Target): string[] {
  const replaced = target.replacedCharacters?.() ?? 0;
  return replaced > 0 ? [`${formatCount(replaced)} ${replaced === 1 ? 'character' : 'characters'} stored as U+FFFD`] : [];
}

/**
 * A summary line broken to fit a terminal `columns` wide: only after `, `, `; ` or `: ` and
 * before ` (`, so a name stays with its count and no number is split; continuation lines are
 * indented by `indent` (a table's last column: where its text started), or by 4 when that
 * would leave too little room. Unchanged when it fits or the width is unknown.
 */
export function fitToWidth(text: string, columns: number | undefined, indent = 2): string {
  if (columns === undefined || columns <= 0 || text.length < columns) return text;
  const width = columns - 1;
  const pad = ' '.repeat(indent <= width / 2 ? indent : 4);
  const pieces = text.split(/(?<=, |; |: )|(?= \()/);
  const lines: string[] = [];
  let line = '';
  for (const piece of pieces) {
    if (line !== '' && line.length + piece.trimEnd().length > width) {
      lines.push(line.trimEnd());
      line = pad + piece.trimStart();
    } else {
      line += piece;
    }
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
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
