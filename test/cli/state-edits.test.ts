import { describe, expect, it } from 'vitest';
import { bookmarkValue, mergeState, withBookmark } from '../../src/cli/state-edits.js';
import { toSyncState } from '../../src/protocol/state.js';

const stored = toSyncState({
  currently_syncing: null,
  bookmarks: {
    customers: { replication_key: 'updated_at', replication_key_value: '2025-03-01T00:00:00Z' },
    orders: { replication_key: 'updated_at', replication_key_value: '2025-02-01T00:00:00Z', partitions: { a: '2025-01-01T00:00:00Z' } },
  },
});

describe('changing one stream of a state', () => {
  it('sets that bookmark as a whole and keeps the others', () => {
    const next = withBookmark(stored, 'orders', { name: 'updated_at', schema: { type: 'string', format: 'date-time' } }, '2025-06-01T00:00:00Z');
    expect(next.bookmarks).toEqual({
      customers: stored.bookmarks['customers'],
      orders: { replication_key: 'updated_at', replication_key_value: '2025-06-01T00:00:00Z' },
    });
  });

  it('types the value as the key is declared', () => {
    expect(bookmarkValue('s', { name: 'id', schema: { type: ['null', 'integer'] } }, '42')).toBe(42);
    expect(bookmarkValue('s', { name: 'score', schema: { type: 'number' } }, '1.5')).toBe(1.5);
    expect(bookmarkValue('s', { name: 'cursor' }, '42')).toBe('42');
    expect(() => bookmarkValue('s', { name: 'id', schema: { type: 'integer' } }, '1.5')).toThrow(/the bookmark of s is its id, a number; got "1.5"/);
    expect(() => bookmarkValue('s', { name: 'at', schema: { type: 'string', format: 'date-time' } }, 'yesterday')).toThrow(/a date-time/);
  });
});

describe('merging a given state into the stored one', () => {
  it('replaces the bookmarks it names, keeps the others and the keys it does not mention', () => {
    const merged = mergeState({ ...stored, tap_version: 3 }, { bookmarks: { orders: { replication_key: 'updated_at', replication_key_value: 'x' } } });
    expect(merged).toEqual({
      currently_syncing: null,
      tap_version: 3,
      bookmarks: { customers: stored.bookmarks['customers'], orders: { replication_key: 'updated_at', replication_key_value: 'x' } },
    });
  });

  it('leaves a state of another shape as it is, apart from what it is given', () => {
    expect(mergeState({ a: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
    expect(mergeState(undefined, { bookmarks: { s: {} } })).toEqual({ bookmarks: { s: {} } });
  });
});
