import { parentPort, workerData } from 'node:worker_threads';
import { messageOf } from '../errors.js';
import { workerLogger } from '../worker-calls.js';
import { Journal, type NewDelivery } from './journal.js';
import type { JournalThreadData, JournalToMain, MainToJournal } from './journal-thread.js';
import { Retention } from './retention.js';

/** The journal's thread (see journal-thread.ts): its own connection, group commits, retention. */

const port = parentPort;
if (!port) throw new Error('journal-worker.js runs only as a worker thread');
const data = workerData as JournalThreadData;
const send = (message: JournalToMain): void => port.postMessage(message);

const log = workerLogger(send);

const journal = new Journal(data.journalPath, { busyTimeoutMs: data.busyTimeoutMs });
const retention = data.retention ? new Retention(journal, { ...data.retention, log }) : undefined;
retention?.start();

port.on('message', (message: MainToJournal) => {
  if (message.type === 'close') {
    void (async () => {
      await retention?.stop();
      journal.close();
      send({ type: 'closed' });
      port.close();
    })();
    return;
  }
  try {
    // Bodies arrive as Uint8Array (structured clone): view them as Buffers, no copy.
    const entries: NewDelivery[] = message.entries.map((e) => ({ ...e, body: Buffer.from(e.body.buffer, e.body.byteOffset, e.body.byteLength) }));
    send({ type: 'appended', id: message.id, outcomes: journal.append(entries) });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    send({ type: 'failed', id: message.id, code: typeof code === 'string' ? code : '', message: messageOf(err) });
  }
});

send({ type: 'ready' });
