/**
 * Repairing a log after a crash (docs/log-format.md, "Torn records"): a torn last
 * line (no newline at its end, or not valid JSON) is cut off; every complete record
 * before it is kept. Nothing else is ever changed: when a line before the last is
 * invalid, the log is bad input and the file is left as it was.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InputError } from '../errors.js';
import { readLogBatches } from './read-file.js';
import { LogParser } from './reader.js';

export interface RepairResult {
  /** The torn line that was cut off, or null when the log had none. */
  removed: { line: number; bytes: number } | null;
  /** Complete lines the log holds now (the header included). */
  lines: number;
}

const CHUNK = 1 << 16;

function readable(file: string, e: unknown): InputError {
  return new InputError(file, 'a readable and writable log file', (e as NodeJS.ErrnoException).code ?? String(e));
}

/** Cut a torn last record off a log file; `file` names it in messages. */
export async function repairLog(path: string, file: string = path): Promise<RepairResult> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r+');
  } catch (e) {
    throw readable(file, e);
  }
  try {
    const size = (await handle.stat()).size;
    const end = Buffer.alloc(1);
    if (size > 0) await handle.read(end, 0, 1, size - 1);
    const newline = size > 0 && end[0] === 0x0a;
    // Start of the last line: just after the newline before it.
    let start = 0;
    let pos = newline ? size - 1 : size;
    const buf = Buffer.alloc(CHUNK);
    search: while (pos > 0) {
      const from = Math.max(0, pos - CHUNK);
      const { bytesRead } = await handle.read(buf, 0, pos - from, from);
      for (let i = bytesRead - 1; i >= 0; i--) {
        if (buf[i] === 0x0a) {
          start = from + i + 1;
          break search;
        }
      }
      pos = from;
    }
    let torn = size > 0 && !newline;
    if (size > 0 && newline) {
      const last = Buffer.alloc(size - 1 - start);
      await handle.read(last, 0, last.length, start);
      const text = last.toString('utf8').replace(/\r$/, '');
      try {
        JSON.parse(text);
      } catch {
        torn = true;
      }
    }
    if (!torn) {
      let lines = 0;
      for await (const batch of readLogBatches(path, file)) lines += batch.length;
      return { removed: null, lines };
    }
    // Validate every line before the torn one, then cut.
    const parser = new LogParser(file);
    if (start > 0) {
      // A stream of its own: closing it must not close the handle that truncates.
      const stream = createReadStream(path, { encoding: 'utf8', start: 0, end: start - 1 });
      const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      try {
        for await (const line of rl) parser.next(line);
      } finally {
        rl.close();
        stream.destroy();
      }
    }
    const lines = parser.lines;
    await handle.truncate(start);
    await handle.sync();
    return { removed: { line: lines + 1, bytes: size - start }, lines };
  } catch (e) {
    if (e instanceof InputError) throw e;
    if ((e as NodeJS.ErrnoException).code) throw readable(file, e);
    throw e;
  } finally {
    await handle.close();
  }
}
