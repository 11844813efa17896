import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BacklogRow } from './journal-store.js';

/**
 * What `sync listen` serves at `GET /metrics`, in the Prometheus text format: deliveries by
 * connector and outcome, request latency, and the journal's backlog. One registry per service
 * (no module singleton: tests run several listeners in one process).
 *
 * The listener's throughput is benchmarked, so the per-request cost is kept to a few
 * increments: every series a request can touch is resolved once (per connector at start, per
 * refusal reason at its first occurrence) into a plain number cell, and the counter is brought
 * up to date from the cells only when scraped. prom-client's own label children would hash
 * their label values into a string on every `inc`; that is left to the scrape. The histogram
 * is the exception: prom-client has no way to add bucket counts in bulk, so each request does
 * one `observe` on a child cached per connector.
 */

/** How a request to a webhook endpoint ended. */
export type Outcome =
  | 'stored'
  | 'duplicate'
  /** A vendor's verification handshake answered by the connector, nothing stored. */
  | 'handshake'
  /** 401: the signature (or token) did not verify; the reason is the verifier's fixed text. */
  | 'refused'
  | 'too_large'
  /** 503: the reason is one of UnavailableReason. */
  | 'unavailable'
  | 'method_not_allowed'
  /** The client went away before its body was complete; nothing was answered. */
  | 'aborted';

/** Why a delivery got 503, as a label: fixed texts, the details (error messages, sizes) stay in the log line. */
export type UnavailableReason =
  | 'shutting down'
  | 'too many requests in flight'
  | 'too many bytes in flight'
  /** A journal write failed and none has succeeded since, or its write queue is full. */
  | 'journal unavailable'
  | 'disk nearly full'
  | 'disk full';

/** Requests that reached no connector. */
export type Unrouted = 'not_found' | 'error';

/** The hot path's view of one connector's series. */
export interface ConnectorRecorder {
  /** One answered request: `reason` only for `refused` and `unavailable`, and always a fixed text. */
  answered(status: number, outcome: Outcome, reason: string | undefined, seconds: number): void;
}

/** Upper bounds in seconds: a stored delivery takes a millisecond or two idle, a loaded or stalled journal up to seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The journal is counted at most this often, however many scrapers ask. */
const JOURNAL_READ_EVERY_MS = 1_000;

type DeliveryLabel = 'connector' | 'status' | 'outcome' | 'reason';

/** A counter series as the hot path sees it: a number; `exported` is what prom-client has been told. */
interface Cell {
  value: number;
  exported: number;
  child: { inc(value: number): void };
}

export interface ListenMetricsOptions {
  connectors: readonly string[];
  /**
   * Counts the journal's pending and dead deliveries: on a connection that never waits for a
   * lock, so a scrape shows the last known counts rather than hold up the HTTP thread.
   */
  backlog: () => Promise<BacklogRow[]>;
  /** prom-client's process and Node.js series (CPU, memory, event loop lag, GC). */
  processMetrics: boolean;
}

export class ListenMetrics {
  readonly registry = new Registry();
  private readonly deliveries: Counter<DeliveryLabel>;
  private readonly latency: Histogram<'connector'>;
  private readonly cells: Cell[] = [];
  private readonly recorders = new Map<string, ConnectorRecorder>();
  private readonly unrouted = new Map<Unrouted, Cell>();
  private readonly journal: JournalCounts;

  constructor(options: ListenMetricsOptions) {
    const registers = [this.registry];
    const cells = this.cells;
    this.deliveries = new Counter({
      name: 'sync_listen_deliveries_total',
      help: 'Requests to webhook endpoints, by connector, HTTP status, outcome and (refused, unavailable) reason.',
      labelNames: ['connector', 'status', 'outcome', 'reason'],
      registers,
      collect() {
        for (const cell of cells) {
          if (cell.value === cell.exported) continue;
          cell.child.inc(cell.value - cell.exported);
          cell.exported = cell.value;
        }
      },
    });
    this.latency = new Histogram({
      name: 'sync_listen_request_duration_seconds',
      help: 'From the start of a webhook request to its answer (for a stored delivery: after its journal commit), by connector.',
      labelNames: ['connector'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.journal = new JournalCounts(options.backlog, options.connectors);
    const journal = this.journal;
    new Gauge({
      name: 'sync_listen_journal_pending',
      help: 'Deliveries stored in the journal and not yet written to the target, by connector.',
      labelNames: ['connector'],
      registers,
      async collect() {
        for (const [connector, c] of await journal.read()) this.set({ connector }, c.pending);
      },
    });
    new Gauge({
      name: 'sync_listen_journal_dead',
      help: 'Dead letters in the journal (deliveries the mapping could not use), by connector.',
      labelNames: ['connector'],
      registers,
      async collect() {
        for (const [connector, c] of await journal.read()) this.set({ connector }, c.dead);
      },
    });
    new Gauge({
      name: 'sync_listen_drain_lag_seconds',
      help: 'Age of the oldest pending delivery in the journal (0 when none is pending), by connector.',
      labelNames: ['connector'],
      registers,
      async collect() {
        const counts = await journal.read();
        const now = Date.now();
        for (const [connector, c] of counts) this.set({ connector }, c.oldestPendingMs === undefined ? 0 : Math.max(0, now - c.oldestPendingMs) / 1000);
      },
    });
    let readErrorsExported = 0;
    new Counter({
      name: 'sync_listen_journal_read_errors_total',
      help: 'Scrapes that could not count the journal and showed the last known counts instead.',
      registers,
      collect() {
        this.inc(journal.readErrors - readErrorsExported);
        readErrorsExported = journal.readErrors;
      },
    });
    for (const name of options.connectors) this.recorders.set(name, this.connectorRecorder(name));
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The recorder of a served connector, resolved once per request by a map lookup. */
  connector(name: string): ConnectorRecorder | undefined {
    return this.recorders.get(name);
  }

  /** A request that reached no connector: an unknown path (404), or an internal error (500). */
  unroutedRequest(what: Unrouted): void {
    let cell = this.unrouted.get(what);
    if (cell === undefined) {
      cell = this.cell({ status: what === 'not_found' ? '404' : '500', outcome: what });
      this.unrouted.set(what, cell);
    }
    cell.value++;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition; the journal is counted now (or a second ago). */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  private connectorRecorder(connector: string): ConnectorRecorder {
    const latency = this.latency.labels(connector);
    /** outcome → status → reason ('' for none) → cell: lookups with the values at hand, no key built. */
    const byOutcome = new Map<Outcome, Map<number, Map<string, Cell>>>();
    const cellFor = (status: number, outcome: Outcome, reason: string): Cell => {
      let byStatus = byOutcome.get(outcome);
      if (byStatus === undefined) byOutcome.set(outcome, (byStatus = new Map<number, Map<string, Cell>>()));
      let byReason = byStatus.get(status);
      if (byReason === undefined) byStatus.set(status, (byReason = new Map<string, Cell>()));
      let cell = byReason.get(reason);
      if (cell === undefined) {
        cell = this.cell(reason === '' ? { connector, status: String(status), outcome } : { connector, status: String(status), outcome, reason });
        byReason.set(reason, cell);
      }
      return cell;
    };
    // Present from the start, so a rate over the first deliveries has a zero to start from.
    cellFor(200, 'stored', '');
    cellFor(200, 'duplicate', '');
    return {
      answered(status, outcome, reason, seconds) {
        cellFor(status, outcome, reason ?? '').value++;
        latency.observe(seconds);
      },
    };
  }

  private cell(labels: Partial<Record<DeliveryLabel, string>>): Cell {
    const child = this.deliveries.labels(labels);
    // Creates the series at 0: prom-client shows a labelled series only once it was touched.
    child.inc(0);
    const cell: Cell = { value: 0, exported: 0, child };
    this.cells.push(cell);
    return cell;
  }
}

interface ConnectorCounts {
  pending: number;
  dead: number;
  /** Receive time of the oldest pending delivery, epoch milliseconds. */
  oldestPendingMs: number | undefined;
}

/**
 * The journal's backlog, counted when scraped, at most once a second however many series and
 * scrapers ask (they share one count under way). A count that fails shows the last known one.
 */
class JournalCounts {
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<Map<string, ConnectorCounts>> | undefined;
  private last: Map<string, ConnectorCounts>;
  readErrors = 0;

  constructor(
    private readonly backlog: () => Promise<BacklogRow[]>,
    private readonly connectors: readonly string[],
  ) {
    this.last = this.empty();
  }

  read(): Promise<Map<string, ConnectorCounts>> {
    if (this.reading) return this.reading;
    const now = performance.now();
    if (now - this.readAt < JOURNAL_READ_EVERY_MS) return Promise.resolve(this.last);
    this.readAt = now;
    this.reading = this.count().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async count(): Promise<Map<string, ConnectorCounts>> {
    try {
      const counts = this.empty();
      for (const row of await this.backlog()) {
        // Deliveries of connectors this listener does not serve are not its backlog.
        const c = counts.get(row.connector);
        if (c === undefined) continue;
        if (row.status === 'dead') c.dead = row.n;
        else {
          c.pending = row.n;
          const oldest = row.oldest === null ? Number.NaN : Date.parse(row.oldest);
          c.oldestPendingMs = Number.isNaN(oldest) ? undefined : oldest;
        }
      }
      this.last = counts;
    } catch {
      this.readErrors++;
    }
    return this.last;
  }

  private empty(): Map<string, ConnectorCounts> {
    return new Map(this.connectors.map((name) => [name, { pending: 0, dead: 0, oldestPendingMs: undefined }]));
  }
}
