import { describe, expect, it } from 'vitest';
import { LosslessNumber } from '../../src/protocol/json.js';
import {
  clearBookmark,
  compareBookmarkValues,
  emptyState,
  getBookmark,
  getPartitionBookmarks,
  nextBookmark,
  resumeOrder,
  setBookmark,
  setCurrentlySyncing,
  setPartitionBookmarks,
  toSyncState,
  StateError,
} from '../../src/protocol/state.js';

describe('bookmark comparison', () => {
  it('compares date-times as instants, not strings', () => {
    expect(compareBookmarkValues('2024-05-01T12:00:00.000001Z', '2024-05-01T12:00:00Z')).toBeGreaterThan(0);
    expect(compareBookmarkValues('2024-05-01T12:00:00+00:00', '2024-05-01T12:00:00.000000Z')).toBe(0);
    // As strings "2024-05-01T13:00:00+02:00" > "2024-05-01T12:00:00Z"; as instants it is earlier.
    expect(compareBookmarkValues('2024-05-01T13:00:00+02:00', '2024-05-01T12:00:00Z')).toBeLessThan(0);
    expect(compareBookmarkValues('2024-05-01T12:00:00', '2024-05-01T12:00:00Z')).toBe(0);
  });

  it('compares numbers exactly, big integers included', () => {
    expect(compareBookmarkValues(2, 10)).toBeLessThan(0);
    expect(compareBookmarkValues(new LosslessNumber('9007199254740993'), new LosslessNumber('9007199254740992'))).toBeGreaterThan(0);
    expect(compareBookmarkValues(new LosslessNumber('9007199254740993'), 9007199254740992)).toBeGreaterThan(0);
  });

  it('refuses to compare a number with a string', () => {
    expect(() => compareBookmarkValues(1, 'a')).toThrow(StateError);
  });
});

describe('the state reducer', () => {
  it('advances sorted streams as they go, inclusively and never backwards', () => {
    expect(nextBookmark(undefined, '2024-01-02T00:00:00Z', { sorted: true, complete: false })).toBe('2024-01-02T00:00:00Z');
    expect(nextBookmark('2024-01-03T00:00:00Z', '2024-01-02T00:00:00Z', { sorted: true, complete: true })).toBe('2024-01-03T00:00:00Z');
    expect(nextBookmark('2024-01-03T00:00:00Z', undefined, { sorted: true, complete: true })).toBe('2024-01-03T00:00:00Z');
  });

  it('holds unsorted streams until complete, then caps them at the signpost', () => {
    const rule = { sorted: false, signpost: '2024-01-05T00:00:00.000000Z' };
    expect(nextBookmark('2024-01-01T00:00:00Z', '2024-01-04T00:00:00Z', { ...rule, complete: false })).toBe('2024-01-01T00:00:00Z');
    expect(nextBookmark('2024-01-01T00:00:00Z', '2024-01-04T00:00:00Z', { ...rule, complete: true })).toBe('2024-01-04T00:00:00Z');
    expect(nextBookmark('2024-01-01T00:00:00Z', '2024-01-09T00:00:00Z', { ...rule, complete: true })).toBe(rule.signpost);
  });

  it('carries other streams forward and does not mutate', () => {
    const start = setBookmark(emptyState(), 'customers', 'updated_at', '2024-01-01T00:00:00Z');
    const next = setBookmark(start, 'orders', 'updated_at', '2024-02-01T00:00:00Z');
    expect(getBookmark(next, 'customers', 'updated_at')).toBe('2024-01-01T00:00:00Z');
    expect(getBookmark(start, 'orders', 'updated_at')).toBeUndefined();
    expect(next.bookmarks['orders']).toEqual({ replication_key: 'updated_at', replication_key_value: '2024-02-01T00:00:00Z' });
    expect(getBookmark(clearBookmark(next, 'orders'), 'orders', 'updated_at')).toBeUndefined();
  });

  it('ignores a bookmark kept for another replication key, and reads the classic shape', () => {
    const state = toSyncState({ bookmarks: { a: { replication_key: 'id', replication_key_value: 5 }, b: { updated_at: '2024-01-01' } } });
    expect(getBookmark(state, 'a', 'updated_at')).toBeUndefined();
    expect(getBookmark(state, 'a', 'id')).toBe(5);
    expect(getBookmark(state, 'b', 'updated_at')).toBe('2024-01-01');
  });

  it('resumes at currently_syncing and still runs every stream', () => {
    const state = setCurrentlySyncing(emptyState(), 'orders');
    expect(resumeOrder(['customers', 'orders', 'refunds'], state)).toEqual(['orders', 'refunds', 'customers']);
    expect(resumeOrder(['customers', 'orders'], setCurrentlySyncing(state, 'gone'))).toEqual(['customers', 'orders']);
  });

  it('refuses state that is not an object', () => {
    expect(() => toSyncState([1, 2])).toThrow(StateError);
    expect(() => toSyncState({ bookmarks: 'x' })).toThrow(StateError);
    expect(toSyncState(null)).toEqual(emptyState());
  });
});

describe('per-partition bookmarks', () => {
  it('keeps one bookmark per partition, bounded: beyond the cap they collapse to the smallest', () => {
    const state = setPartitionBookmarks(emptyState(), 'tasks', 'updated_at', { a: '2024-01-03T00:00:00Z', b: '2024-01-01T00:00:00Z' });
    expect(getPartitionBookmarks(state, 'tasks', 'updated_at')).toEqual({ a: '2024-01-03T00:00:00Z', b: '2024-01-01T00:00:00Z' });
    expect(getPartitionBookmarks(state, 'tasks', 'id')).toEqual({});
    const capped = setPartitionBookmarks(emptyState(), 'tasks', 'updated_at', { a: '2024-01-03T00:00:00Z', b: '2024-01-01T00:00:00+01:00', c: '2024-01-02T00:00:00Z' }, 2);
    expect(capped.bookmarks['tasks']).toEqual({ replication_key: 'updated_at', replication_key_value: '2024-01-01T00:00:00+01:00' });
    // Partitions tracked again later keep the collapsed value as the floor for the others.
    const again = setPartitionBookmarks(capped, 'tasks', 'updated_at', { d: '2024-02-01T00:00:00Z' });
    expect(again.bookmarks['tasks']).toEqual({ replication_key: 'updated_at', partitions: { d: '2024-02-01T00:00:00Z' }, replication_key_value: '2024-01-01T00:00:00+01:00' });
  });
});
