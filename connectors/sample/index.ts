import { defineConnector, defineStream, type StreamContext } from '../../src/connector/contract.js';
import { UsageError } from '../../src/errors.js';
import { parseInstant } from '../../src/protocol/instant.js';
import { stringifyJson, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { ACCOUNT_OPENED_MS, createSimulation, type Simulation } from './generator.js';
import { IsoFormatter } from './iso-time.js';
import { customerRecord, orderRecord } from './records.js';
import { customerSchema, orderSchema } from './schemas.js';
import { customerSnapshot, orderSnapshot, type Snapshot } from './snapshot.js';
import { sampleWebhooks } from './webhooks.js';

export interface SampleConfig {
  seed: number;
  customers: number;
  orders: number;
  /** RFC 3339; absent means the time the run started. */
  now?: string;
  /** Standard Webhooks secret(s) for `sync listen`; several separated by spaces while rotating. */
  webhook_secret?: string;
}

// A cap keeps a typo from allocating gigabytes; ten million is past any benchmark we run.
const MAX_OBJECTS = 10_000_000;
/** Records per yielded page: big enough that iterating is cheap, small enough to stop soon on a signal. */
const PAGE_SIZE = 500;

export default defineConnector<SampleConfig>({
  name: 'sample',
  version: '0.1.0',
  description: 'An offline simulated shop account (customers and orders) for demos, tests and benchmarks; needs no credentials',
  config: {
    properties: {
      seed: {
        type: 'integer',
        default: 1,
        description: 'Seed of the simulation: the same seed, counts and now always give the same records',
      },
      customers: {
        type: 'integer',
        minimum: 0,
        maximum: MAX_OBJECTS,
        default: 100,
        description: 'How many customers the account gains during its first year, 2025',
      },
      orders: {
        type: 'integer',
        minimum: 0,
        maximum: MAX_OBJECTS,
        default: 500,
        description: 'How many orders are placed during the account\'s first year, 2025',
      },
      now: {
        type: 'string',
        format: 'date-time',
        examples: ['2026-01-01T00:00:00Z'],
        description: 'The simulated present: nothing created or changed after it exists yet (default: when the run starts)',
      },
      webhook_secret: {
        type: 'string',
        secret: true,
        description: 'Standard Webhooks signing secret (whsec_...) that `sync listen sample` verifies deliveries with; during a rotation, the new and the old one separated by a space',
      },
    },
  },
  webhooks: sampleWebhooks,
  streams: [
    defineStream<SampleConfig>({
      name: 'customers',
      description: 'Customers; each changes every 5-60 days, and about 3% get deleted',
      schema: customerSchema,
      keyProperties: ['id'],
      replicationKey: 'updated_at',
      sorted: true,
      deletions: 'deleted customers are emitted with _sdc_deleted_at set',
      read: (ctx) => readStream(ctx, 'customers', customerSnapshot, customerRecord),
    }),
    defineStream<SampleConfig>({
      name: 'orders',
      description: 'Orders going pending, paid, shipped, delivered (or cancelled); about 2% get deleted',
      schema: orderSchema,
      keyProperties: ['id'],
      replicationKey: 'updated_at',
      sorted: true,
      deletions: 'deleted orders are emitted with _sdc_deleted_at set',
      read: (ctx) => readStream(ctx, 'orders', orderSnapshot, orderRecord),
    }),
  ],
});

type TakeSnapshot = (sim: Simulation, sinceMicros: number) => Snapshot;
type BuildRecord = (sim: Simulation, times: IsoFormatter, id: number, version: number, updatedMs: number) => JsonObject;

/**
 * Yields a stream's records in (updated_at, id) order, a page at a time, each page built only
 * when asked for. All work starts at the first `next()`, so errors surface where the runner
 * iterates.
 */
async function* readStream(
  ctx: StreamContext<SampleConfig>,
  stream: string,
  takeSnapshot: TakeSnapshot,
  build: BuildRecord,
): AsyncGenerator<JsonObject[]> {
  const sim = simulationFor(ctx);
  const { order, version, updatedMs } = takeSnapshot(sim, bookmarkMicros(ctx.bookmark, stream));
  const times = new IsoFormatter(ACCOUNT_OPENED_MS);
  for (let first = 0; first < order.length; first += PAGE_SIZE) {
    if (ctx.signal.aborted) return;
    const page: JsonObject[] = [];
    for (let n = first; n < Math.min(first + PAGE_SIZE, order.length); n++) {
      const index = order[n] as number;
      page.push(build(sim, times, index + 1, version[index] as number, updatedMs[index] as number));
    }
    yield page;
  }
}

/** The simulated present is read once per run, so both streams see the same account. */
function simulationFor(ctx: StreamContext<SampleConfig>): Simulation {
  const { seed, customers, orders, now } = ctx.config;
  let nowMs = ctx.startedAt.getTime();
  if (now !== undefined) {
    const micros = parseInstant(now);
    if (micros === undefined) throw new UsageError(`sample: now must be an RFC 3339 date-time such as 2026-01-01T00:00:00Z (got ${JSON.stringify(now)})`);
    // Rounding down keeps every emitted updated_at <= now.
    nowMs = Math.floor(micros / 1000);
  }
  return createSimulation(seed, customers, orders, nowMs);
}

function bookmarkMicros(bookmark: JsonValue | undefined, stream: string): number {
  // A null bookmark reads everything: a full read is always safe.
  if (bookmark === undefined || bookmark === null) return Number.NEGATIVE_INFINITY;
  const micros = typeof bookmark === 'string' ? parseInstant(bookmark) : undefined;
  if (micros === undefined) {
    throw new UsageError(`sample: the bookmark of stream ${stream} must be a date-time (got ${stringifyJson(bookmark)})`);
  }
  return micros;
}
