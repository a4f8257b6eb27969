/**
 * The reader thread of a replay (read-thread.ts starts it): reads and validates a log file
 * with readLogBatches and posts each batch as typed arrays (event-codec.ts), at most
 * IN_FLIGHT batches ahead of the replay, so that memory stays bounded however long the log.
 * A reading error is posted after the batches before it, as readLogBatches throws it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeBatch } from './event-codec.js';
import { readLogBatches } from './read-file.js';
import type { LogItem } from './reader.js';
import {
  IN_FLIGHT,
  type ReaderMessage,
  type ReaderStart,
  type ReaderTask,
  serializeReadError,
} from './read-thread-protocol.js';

const port = parentPort!;
const task = workerData as ReaderTask;

let start: (s: ReaderStart) => void;
const started = new Promise<ReaderStart>((r) => (start = r));
let credits = -1;
let wake: (() => void) | undefined;
port.on('message', (m: ReaderStart | number) => {
  if (credits < 0) {
    credits = IN_FLIGHT;
    start(m as ReaderStart);
    return;
  }
  // The replay took a batch: one more may be read.
  credits += 1;
  wake?.();
});

/** Items per posted batch: few messages, and IN_FLIGHT batches are enough read-ahead. */
const POST_ITEMS = 4096;

function post(m: ReaderMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** Items validated and not yet posted, and the characters of their lines. */
let held: LogItem[] = [];
let chars = 0;

/** Post the held items as one batch, once the replay has room for it. */
async function flush(): Promise<void> {
  while (credits === 0) await new Promise<void>((r) => (wake = r));
  credits -= 1;
  const batch = encodeBatch(held, chars);
  held = [];
  chars = 0;
  post({ batch }, [batch.num.buffer as ArrayBuffer, batch.big.buffer as ArrayBuffer]);
}

async function read(s: ReaderStart): Promise<void> {
  const onLine = (n: number) => (chars += n);
  for await (const items of readLogBatches(task.path, task.file, s.keep ? { keep: s.keep, onLine } : { onLine })) {
    for (const item of items) held.push(item);
    if (held.length >= POST_ITEMS) await flush();
  }
}

try {
  await read(await started);
  if (held.length) await flush();
  post({ done: true });
} catch (e) {
  // The items before the bad line first, as readLogBatches delivers them.
  if (held.length) await flush();
  post({ error: serializeReadError(e) });
}
// Nothing more to say: the thread ends once its messages are delivered, whether or not
// the replay terminates it (a replay that forgot to would otherwise never exit).
port.unref();
