import { writeFileAtomic } from '../fs-atomic.js';
import type { Logger } from '../log.js';
import { parseInstant } from '../protocol/instant.js';
import type { JsonValue } from '../protocol/json.js';
import { medianDelayMs } from '../targets/change-count.js';
import type { RunRecord } from '../targets/history.js';

/**
 * `sync run --metrics-file PATH`: the run's figures in the Prometheus text exposition format,
 * replaced atomically after each run, for node_exporter's textfile collector (which reads every
 * `*.prom` of its folder, so the temporary file beside it, not ending in `.prom`, is never
 * read half-written).
 */

export interface MetricsInput {
  run: RunRecord;
  /** End of the last successful run, this one or an earlier one from the history (ms). */
  lastSuccessMs: number | undefined;
  /** A run that failed before it read its state: the stored bookmarks, whose ages are still true. */
  storedBookmarks?: Record<string, JsonValue> | undefined;
  /**
   * Streams known from earlier (the last success, the stored state): a failed run wrote 0 records
   * of those it did not reach, and says so, so that every series stays where alerts look for it.
   */
  knownStreams?: readonly string[] | undefined;
  now: number;
}

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels: Labels; value: number }>;
}

export function metricsText({ run, lastSuccessMs, storedBookmarks, knownStreams = [], now }: MetricsInput): string {
  const base: Labels = { connector: run.connector, state_id: run.stateId };
  const records = new Map(Object.entries(run.records));
  for (const stream of knownStreams) if (!records.has(stream)) records.set(stream, 0);
  const families: Family[] = [
    {
      name: 'sync_last_success_timestamp_seconds',
      help: 'End of the last successful sync run, in seconds since the epoch.',
      samples: lastSuccessMs === undefined ? [] : [{ labels: base, value: lastSuccessMs / 1000 }],
    },
    {
      name: 'sync_last_run_timestamp_seconds',
      help: 'End of the last sync run, whatever its outcome.',
      samples: [{ labels: base, value: Date.parse(run.endedAt) / 1000 }],
    },
    {
      name: 'sync_last_run_duration_seconds',
      help: 'How long the last sync run took.',
      samples: [{ labels: base, value: (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000 }],
    },
    { name: 'sync_last_run_exit_code', help: 'Exit code of the last sync run (0 is success).', samples: [{ labels: base, value: run.exitCode }] },
    {
      name: 'sync_last_run_records',
      help: 'Records written by the last sync run, per stream.',
      samples: [...records].map(([stream, value]) => ({ labels: { ...base, stream }, value })),
    },
    {
      name: 'sync_bookmark_age_seconds',
      help: "Age of each stream's bookmark (its newest record) when the run ended.",
      samples: Object.entries(storedBookmarks ?? run.bookmarksAfter).flatMap(([stream, value]) => {
        const micros = typeof value === 'string' ? parseInstant(value) : undefined;
        return micros === undefined ? [] : [{ labels: { ...base, stream }, value: (now - micros / 1000) / 1000 }];
      }),
    },
    {
      name: 'sync_webhook_coverage_ratio',
      help: 'Share of the changes the last run found that webhooks had already delivered, per stream.',
      samples: Object.entries(run.changes ?? {}).flatMap(([stream, c]) => (c.found === 0 ? [] : [{ labels: { ...base, stream }, value: c.delivered / c.found }])),
    },
    {
      name: 'sync_webhook_changes_found',
      help: 'Changes to stored objects the last run found, per stream (the base of the coverage ratio).',
      samples: Object.entries(run.changes ?? {}).map(([stream, c]) => ({ labels: { ...base, stream }, value: c.found })),
    },
    {
      name: 'sync_webhook_late_median_seconds',
      help: 'Of the changes the last run found that webhooks had not delivered: the median time from the change to the run, per stream.',
      samples: Object.entries(run.changes ?? {}).flatMap(([stream, c]) => {
        const median = medianDelayMs([c.lateDelays]);
        return median === undefined ? [] : [{ labels: { ...base, stream }, value: median / 1000 }];
      }),
    },
  ];
  const lines: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const s of f.samples) lines.push(`${f.name}{${formatLabels(s.labels)}} ${formatValue(s.value)}`);
  }
  return lines.join('\n') + '\n';
}

export function writeMetricsFile(path: string, input: MetricsInput, log: Logger): void {
  try {
    writeFileAtomic(path, metricsText(input));
  } catch (err) {
    log.warn(`the metrics file ${path} was not written: ${(err as Error).message}`);
  }
}

function formatLabels(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`)
    .join(',');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}
