import sample, { type SampleConfig } from '../../connectors/sample/index.js';
import { eachRecord, type StreamContext, type StreamDefinition } from '../../src/connector/contract.js';
import { silentLogger } from '../../src/log.js';
import { parseInstant } from '../../src/protocol/instant.js';
import type { JsonObject, JsonValue } from '../../src/protocol/json.js';

export type StreamName = 'customers' | 'orders';

export function stream(name: StreamName): StreamDefinition<SampleConfig> {
  const found = sample.streams.find((s) => s.name === name);
  if (!found) throw new Error(`no stream ${name}`);
  return found;
}

export function config(overrides: Partial<SampleConfig>): SampleConfig {
  return { seed: 1, customers: 100, orders: 500, ...overrides };
}

export function context(
  cfg: SampleConfig,
  options: { bookmark?: JsonValue | undefined; signal?: AbortSignal; startedAt?: Date } = {},
): StreamContext<SampleConfig> {
  return {
    config: cfg,
    bookmark: options.bookmark,
    state: { currently_syncing: null, bookmarks: {} },
    log: silentLogger,
    signal: options.signal ?? new AbortController().signal,
    startedAt: options.startedAt ?? new Date(),
  };
}

export async function readAll(name: StreamName, cfg: SampleConfig, bookmark?: JsonValue): Promise<JsonObject[]> {
  const records: JsonObject[] = [];
  for await (const record of eachRecord(stream(name).read(context(cfg, { bookmark })))) records.push(record);
  return records;
}

/** Microseconds of a date-time field; fails loudly on anything else. */
export function instant(value: JsonValue | undefined): number {
  const micros = typeof value === 'string' ? parseInstant(value) : undefined;
  if (micros === undefined) throw new Error(`not a date-time: ${JSON.stringify(value)}`);
  return micros;
}

export function ids(records: readonly JsonObject[]): number[] {
  return records.map((r) => r['id'] as number);
}
