/**
 * readLogBatches on a second thread, for replay (issue 4: a replay of a long log spent a
 * quarter of its time reading and validating it; on a second core that work overlaps the
 * replay's own).
 *
 * The reader thread (read-worker.ts) validates the file exactly as readLogBatches does and
 * posts the items in batches of typed arrays (event-codec.ts); this side decodes them a few
 * at a time and yields the same items, and throws the reading error, with its class and
 * message, where readLogBatches would have thrown it: after the items before it. The thread
 * runs at most IN_FLIGHT batches ahead and is terminated when the replay stops reading (the
 * end, a divergence, `--until`).
 *
 * `useReadThread` says when: a file of at least READ_THREAD_MIN_BYTES on a machine with a
 * second core (starting the thread and loading gpucr in it costs about 200 ms, which a small
 * log does not repay), and only from the built package (the thread runs read-worker.js; under the test
 * runner's TypeScript sources there is none, and the file is read on the calling thread).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BatchDecoder } from './event-decode.js';
import type { LogItem } from './reader.js';
import { deserializeReadError, type ReaderMessage, type ReaderStart, type ReaderTask } from './read-thread-protocol.js';

/** Files smaller than this are read on the replaying thread. */
export const READ_THREAD_MIN_BYTES = 8 << 20;

/** Items decoded at a time (BatchDecoder). */
const TAKE = 256;

const WORKER = new URL('./read-worker.js', import.meta.url);

/** Whether the reader thread can run here: a built read-worker.js beside this module. */
export function readThreadAvailable(): boolean {
  return WORKER.protocol === 'file:' && existsSync(fileURLToPath(WORKER));
}

/** Whether a replay of a file of `size` bytes reads it on a second thread ('auto'), or as told. */
export function useReadThread(size: number, mode: 'auto' | 'always' | 'never' = 'auto'): boolean {
  if (mode === 'never' || !readThreadAvailable()) return false;
  return mode === 'always' || (size >= READ_THREAD_MIN_BYTES && availableParallelism() > 1);
}

/**
 * A reader thread for one log file. It is started first, so that loading the package in the
 * thread overlaps the replay's byte scan for references; `batches(keep)` then gives the
 * items of readLogBatches(path, file, { keep }), read and validated on that thread.
 */
export class ReadThread {
  private readonly worker: Worker;
  private readonly queue: ReaderMessage[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(path: string, file: string) {
    const task: ReaderTask = { path, file };
    this.worker = new Worker(WORKER, { workerData: task });
    this.worker.on('message', (m: ReaderMessage) => {
      this.queue.push(m);
      this.wake?.();
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      this.wake?.();
    });
    // The thread ends by itself after its last message (done or an error), which is
    // delivered before this event; an end without one is a failure.
    this.worker.on('exit', (code) => {
      this.failure ??= new Error(`reader thread exited with code ${code} before the end of the file`);
      this.wake?.();
    });
  }

  /** Stop the thread (batches() does when the replay stops reading). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  /**
   * The file's batches, keeping the calls of the `keep` lines; `onChars` is called with the
   * characters of each batch as it is taken (progress). Once only: the thread ends with it.
   */
  async *batches(keep: ReadonlySet<number> | undefined, onChars?: (chars: number) => void): AsyncGenerator<LogItem[]> {
    const start: ReaderStart = keep ? { keep } : {};
    this.worker.postMessage(start);
    try {
      for (;;) {
        while (this.queue.length === 0 && this.failure === undefined) await new Promise<void>((r) => (this.wake = r));
        const m = this.queue.shift();
        if (m === undefined) throw this.failure!;
        if ('done' in m) return;
        if ('error' in m) throw deserializeReadError(m.error);
        // Taken: the reader may read one batch more while this one is replayed.
        this.worker.postMessage(1);
        onChars?.(m.batch.chars);
        const d = new BatchDecoder(m.batch);
        while (!d.done) yield d.take(TAKE);
      }
    } finally {
      await this.terminate();
    }
  }
}
