import { describe, expect, it } from 'vitest';
import { defineConnector, defineStream } from '../../src/connector/contract.js';
import { InterruptedError, SourceError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { JsonObject, JsonValue } from '../../src/protocol/json.js';
import type { Message } from '../../src/protocol/messages.js';
import { emptyState, setBookmark, setCurrentlySyncing, type SyncState } from '../../src/protocol/state.js';
import { selectAll } from '../../src/tap/catalog.js';
import { runTap } from '../../src/tap/runner.js';

type Rows = Record<string, JsonObject[]>;

function connector(
  rows: Rows,
  options: { sorted?: boolean; pageSize?: number; failAfter?: number; seenBookmarks?: Record<string, JsonValue | undefined>; partitioned?: boolean; seenPartitions?: Record<string, JsonValue | undefined> } = {},
) {
  return defineConnector<object>({
    name: 'fake',
    version: '0',
    description: 'test',
    config: { properties: {} },
    streams: Object.keys(rows).map((name) =>
      defineStream<object>({
        name,
        schema: { type: 'object', properties: { id: { type: 'integer' }, updated_at: { type: 'string' } } },
        keyProperties: ['id'],
        replicationKey: 'updated_at',
        sorted: options.sorted ?? true,
        ...(options.partitioned ? { partitionOf: (r: JsonObject) => String(r['parent']) } : {}),
        async *read(ctx) {
          if (options.seenBookmarks) options.seenBookmarks[name] = ctx.bookmark;
          if (options.seenPartitions) for (const p of ['p1', 'p2', 'p3']) options.seenPartitions[p] = ctx.partitionBookmark?.(p);
          const all = rows[name] ?? [];
          if (options.pageSize !== undefined) {
            // Pages, as an HTTP stream yields them.
            for (let first = 0; first < all.length; first += options.pageSize) yield all.slice(first, first + options.pageSize);
            return;
          }
          let i = 0;
          for (const r of all) {
            if (options.failAfter !== undefined && i++ === options.failAfter) throw new Error('API went away');
            yield r;
          }
        },
      }),
    ),
  });
}

async function run(rows: Rows, state: SyncState, options: Parameters<typeof connector>[1] & { abortAfter?: number } = {}) {
  const messages: Message[] = [];
  const controller = new AbortController();
  const c = connector(rows, options);
  let records = 0;
  let error: unknown;
  try {
    await runTap({
      config: {},
      streams: selectAll(c),
      state,
      fullRefresh: false,
      emit: (m) => {
        messages.push(m);
        if (m.type === 'RECORD' && ++records === options.abortAfter) controller.abort();
      },
      log: silentLogger,
      signal: controller.signal,
      interruptedBy: () => (controller.signal.aborted ? 'SIGINT' : undefined),
      startedAt: new Date('2024-06-01T00:00:00Z'),
      stateEveryRecords: 2,
      stateEveryMs: 60_000,
    });
  } catch (err) {
    error = err;
  }
  const states = messages.flatMap((m) => (m.type === 'STATE' ? [m.value as SyncState] : []));
  return { messages, states, last: states.at(-1), error };
}

const at = (day: number) => `2024-05-${String(day).padStart(2, '0')}T00:00:00Z`;
const rec = (id: number, day: number) => ({ id, updated_at: at(day) });

describe('the tap runner', () => {
  it('emits SCHEMA first, STATE only after the records it covers, and a final state', async () => {
    const { messages, last } = await run({ a: [rec(1, 1), rec(2, 2), rec(3, 3)] }, emptyState());
    expect(messages[0]?.type).toBe('SCHEMA');
    // Every STATE's bookmark is <= the greatest record before it.
    let greatest = '';
    for (const m of messages) {
      if (m.type === 'RECORD') greatest = String(m.record['updated_at']);
      if (m.type === 'STATE') {
        const bm = (m.value as SyncState).bookmarks['a']?.['replication_key_value'];
        if (bm !== undefined) expect(String(bm) <= greatest).toBe(true);
      }
    }
    expect(last).toEqual({ currently_syncing: null, bookmarks: { a: { replication_key: 'updated_at', replication_key_value: at(3) } } });
  });

  it('passes the stored bookmark to the stream and carries other streams forward', async () => {
    const seenBookmarks: Record<string, JsonValue | undefined> = {};
    const state = setBookmark(setBookmark(emptyState(), 'a', 'updated_at', at(2)), 'gone', 'updated_at', at(9));
    const { last } = await run({ a: [rec(2, 2), rec(3, 3)] }, state, { seenBookmarks });
    expect(seenBookmarks['a']).toBe(at(2));
    expect(last?.bookmarks['gone']).toEqual({ replication_key: 'updated_at', replication_key_value: at(9) });
    expect(last?.bookmarks['a']?.['replication_key_value']).toBe(at(3));
  });

  it('never moves a bookmark backwards when a stream returns older records', async () => {
    const state = setBookmark(emptyState(), 'a', 'updated_at', at(5));
    const { last } = await run({ a: [rec(1, 1)] }, state);
    expect(last?.bookmarks['a']?.['replication_key_value']).toBe(at(5));
  });

  it('holds an unsorted stream at its old bookmark until complete, then caps at the run start', async () => {
    const state = setBookmark(emptyState(), 'a', 'updated_at', at(1));
    const rows = { a: [rec(1, 3), rec(2, 2), { id: 3, updated_at: '2024-07-01T00:00:00Z' }, rec(4, 4)] };
    const { states, last } = await run(rows, state, { sorted: false });
    const during = states.slice(0, -2).map((s) => s.bookmarks['a']?.['replication_key_value']);
    expect(new Set(during)).toEqual(new Set([at(1)]));
    // Capped at the run start (2024-06-01), not the record from July.
    expect(last?.bookmarks['a']?.['replication_key_value']).toBe('2024-06-01T00:00:00.000000Z');
  });

  it('fails a sorted stream that goes backwards, naming it', async () => {
    const { error } = await run({ a: [rec(1, 3), rec(2, 2)] }, emptyState());
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(`stream a is declared sorted by "updated_at" but went back from "${at(3)}" to "${at(2)}"`);
  });

  it('a failing stream never gets a state claiming it complete', async () => {
    const { error, last } = await run({ a: [rec(1, 1), rec(2, 2), rec(3, 3), rec(4, 4)] }, emptyState(), { failAfter: 3 });
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe('stream a failed: API went away');
    expect(last?.currently_syncing).toBe('a');
    expect(last?.bookmarks['a']?.['replication_key_value']).toBe(at(2));
  });

  it('on interruption emits a state covering exactly what was read, then stops', async () => {
    const { error, last, messages } = await run({ a: [rec(1, 1), rec(2, 2), rec(3, 3)], b: [rec(1, 1)] }, emptyState(), { abortAfter: 1 });
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(130);
    expect(messages.filter((m) => m.type === 'RECORD')).toHaveLength(1);
    expect(last?.currently_syncing).toBe('a');
    expect(last?.bookmarks['a']?.['replication_key_value']).toBe(at(1));
  });

  it('takes records a page at a time exactly as one at a time', async () => {
    const rows = { a: [1, 2, 3, 4, 5, 6, 7].map((i) => rec(i, i)), b: [rec(1, 1), rec(2, 2)] };
    const single = await run(rows, emptyState());
    const paged = await run(rows, emptyState(), { pageSize: 3 });
    expect(paged.messages.filter((m) => m.type === 'RECORD')).toHaveLength(9);
    expect(paged.messages).toEqual(single.messages);
  });

  it('stops in the middle of a page on interruption, with a state covering exactly what was read', async () => {
    const { error, last, messages } = await run({ a: [1, 2, 3, 4, 5, 6].map((i) => rec(i, i)) }, emptyState(), { pageSize: 4, abortAfter: 2 });
    expect(error).toBeInstanceOf(InterruptedError);
    expect(messages.filter((m) => m.type === 'RECORD')).toHaveLength(2);
    expect(last?.bookmarks['a']?.['replication_key_value']).toBe(at(2));
  });

  it('resumes an interrupted run at currently_syncing, then runs the others', async () => {
    const { messages } = await run({ a: [rec(1, 1)], b: [rec(1, 1)], c: [rec(1, 1)] }, setCurrentlySyncing(emptyState(), 'b'));
    const order = messages.filter((m) => m.type === 'SCHEMA').map((m) => (m as { stream: string }).stream);
    expect(order).toEqual(['b', 'c', 'a']);
  });

  it('keeps a bookmark per partition, sorted within each, and hands each back on the next run', async () => {
    const tasks = [
      { id: 1, parent: 'p1', updated_at: at(3) },
      { id: 2, parent: 'p1', updated_at: at(9) },
      { id: 3, parent: 'p2', updated_at: at(1) },
      { id: 4, parent: 'p2', updated_at: at(2) },
    ];
    const first = await run({ tasks }, emptyState(), { partitioned: true });
    expect(first.error).toBeUndefined();
    expect(first.last?.bookmarks['tasks']).toEqual({ replication_key: 'updated_at', partitions: { p1: at(9), p2: at(2) } });
    const seenPartitions: Record<string, JsonValue | undefined> = {};
    await run({ tasks: [] }, first.last as SyncState, { partitioned: true, seenPartitions });
    expect(seenPartitions).toEqual({ p1: at(9), p2: at(2), p3: undefined });
    // Within a partition the order is still checked.
    const backwards = await run({ tasks: [{ id: 1, parent: 'p1', updated_at: at(5) }, { id: 2, parent: 'p1', updated_at: at(4) }] }, emptyState(), { partitioned: true });
    expect((backwards.error as Error).message).toMatch(/stream tasks \(partition p1\) is declared sorted/);
  });
});
