/**
 * The reader thread of a replay (read-thread.ts starts it): reads and validates a log file
 * with readLogBatches and posts each batch as typed arrays (event-codec.ts), at most
 * IN_FLIGHT batches ahead of the replay, so that memory stays bounded however long the log.
 * A reading error is posted after the batches before it, as readLogBatches throws it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeBatch } from './event-codec.js';
import { readLogBatches } from './read-file.js';
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

function post(m: ReaderMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

async function read(s: ReaderStart): Promise<void> {
  let chars = 0;
  const opts = s.keep ? { keep: s.keep, onLine: (n: number) => (chars += n) } : { onLine: (n: number) => (chars += n) };
  for await (const items of readLogBatches(task.path, task.file, opts)) {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits -= 1;
    const batch = encodeBatch(items, chars);
    chars = 0;
    post({ batch }, [batch.num.buffer as ArrayBuffer, batch.big.buffer as ArrayBuffer]);
  }
  post({ done: true });
}

try {
  await read(await started);
} catch (e) {
  post({ error: serializeReadError(e) });
}
// Nothing more to say: the thread ends once its messages are delivered, whether or not
// the replay terminates it (a replay that forgot to would otherwise never exit).
port.unref();
