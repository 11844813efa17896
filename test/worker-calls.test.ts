import { describe, expect, it } from 'vitest';
import { PendingCalls, relayLog, workerLogger, type LogMessage } from '../src/worker-calls.js';
import { memoryLogger } from './http/server.js';

describe('PendingCalls', () => {
  it('settles each call by its own id, in any order', async () => {
    const calls = new PendingCalls<string>();
    const sent: number[] = [];
    const a = calls.call((id) => sent.push(id));
    const b = calls.call((id) => sent.push(id));
    calls.resolve(sent[1] as number, 'second');
    calls.reject(sent[0] as number, new Error('first failed'));
    await expect(b).resolves.toBe('second');
    await expect(a).rejects.toThrow('first failed');
    expect(calls.size).toBe(0);
  });

  it('after failAll, waiting and later calls fail with the same error and send nothing', async () => {
    const calls = new PendingCalls<void>();
    const waiting = calls.call(() => undefined);
    expect(calls.failed).toBe(false);
    calls.failAll(new Error('thread stopped'));
    expect(calls.failed).toBe(true);
    await expect(waiting).rejects.toThrow('thread stopped');
    let sent = false;
    await expect(calls.call(() => (sent = true))).rejects.toThrow('thread stopped');
    expect(sent).toBe(false);
  });
});

describe('worker logging', () => {
  it('a worker line reaches the main logger at its level, with its fields', () => {
    const main = memoryLogger();
    const posted: LogMessage[] = [];
    const log = workerLogger((m) => posted.push(m));
    log.warn('slow target', { ms: 12 });
    log.debug('tick');
    for (const m of posted) relayLog(main.log, m);
    expect(main.lines).toEqual([
      { level: 'warn', message: 'slow target' },
      { level: 'debug', message: 'tick' },
    ]);
    expect(posted[0]).toEqual({ type: 'log', level: 'warn', message: 'slow target', fields: { ms: 12 } });
  });
});
