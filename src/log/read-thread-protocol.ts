/**
 * What the replay and its reader thread (read-worker.ts, read-thread.ts) say to each other:
 * the task, the messages, and reading errors as data (a structured clone keeps an error's
 * message but not its class, and the CLI tells bad input from a bug by the class).
 */
import { InputError } from '../errors.js';
import type { EncodedBatch } from './event-codec.js';
import { LogError, TornRecordError } from './errors.js';

/** Batches the reader may have posted that the replay has not taken yet. */
export const IN_FLIGHT = 3;

/** The thread's workerData: the file to read. */
export interface ReaderTask {
  path: string;
  /** The log's name in messages. */
  file: string;
}

/** The replay's first message: start reading. Every later message is a credit for one batch. */
export interface ReaderStart {
  /** Lines whose calls later lines reference (readLogBatches' `keep`). */
  keep?: ReadonlySet<number>;
}

/** A reading error as data. */
export type ReadErrorData =
  | { kind: 'torn'; file: string; line: number; reason: string }
  | {
      kind: 'log';
      file: string;
      line: number;
      column: number;
      path: string;
      expected: string;
      found: unknown;
      message: string;
    }
  | { kind: 'input'; where: string; expected: string; found: unknown; message: string }
  | { kind: 'bug'; message: string; stack: string | undefined };

export type ReaderMessage = { batch: EncodedBatch } | { done: true } | { error: ReadErrorData };

/**
 * The offending value if the structured clone can carry it (a value nested a million deep
 * cannot), else undefined: the message, which says what was found, is carried as text.
 */
function cloneable(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return undefined;
  }
}

export function serializeReadError(e: unknown): ReadErrorData {
  if (e instanceof TornRecordError) return { kind: 'torn', file: e.file, line: e.line, reason: e.reason };
  if (e instanceof LogError)
    return {
      kind: 'log',
      file: e.file,
      line: e.line,
      column: e.column,
      path: e.path,
      expected: e.expected,
      found: cloneable(e.found),
      message: e.message,
    };
  if (e instanceof InputError)
    return { kind: 'input', where: e.where, expected: e.expected, found: cloneable(e.found), message: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'bug', message: err.message, stack: err.stack };
}

/** The error the reader thread caught, rebuilt with its class and message. */
export function deserializeReadError(d: ReadErrorData): Error {
  switch (d.kind) {
    case 'torn':
      return new TornRecordError(d.file, d.line, d.reason);
    case 'log': {
      const e = new LogError(d.file, d.line, d.column, d.path, d.expected, d.found);
      e.message = d.message;
      return e;
    }
    case 'input': {
      const e = new InputError(d.where, d.expected, d.found);
      e.message = d.message;
      return e;
    }
    case 'bug': {
      const e = new Error(`reader thread: ${d.message}`);
      if (d.stack) e.stack = `Error: reader thread: ${d.stack}`;
      return e;
    }
  }
}
