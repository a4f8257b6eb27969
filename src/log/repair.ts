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

type Handle = Awaited<ReturnType<typeof open>>;

async function openForRepair(path: string, file: string): Promise<Handle> {
  try {
    return await open(path, 'r+');
  } catch (e) {
    throw readable(file, e);
  }
}

/** Whether the file's last byte is a newline (false for an empty file). */
async function endsWithNewline(handle: Handle, size: number): Promise<boolean> {
  const end = Buffer.alloc(1);
  if (size > 0) await handle.read(end, 0, 1, size - 1);
  return size > 0 && end[0] === 0x0a;
}

/**
 * Offset of the start of the last line: just after the newline before it (0 when there is
 * none). Scans backwards in bounded chunks, so a long log costs memory of one chunk.
 */
async function lastLineStart(handle: Handle, size: number, newline: boolean): Promise<number> {
  let pos = newline ? size - 1 : size;
  const buf = Buffer.alloc(CHUNK);
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const { bytesRead } = await handle.read(buf, 0, pos - from, from);
    for (let i = bytesRead - 1; i >= 0; i--) if (buf[i] === 0x0a) return from + i + 1;
    pos = from;
  }
  return 0;
}

/** Torn: the last line has no newline at its end, or is not valid JSON. */
async function lastLineTorn(handle: Handle, size: number, start: number, newline: boolean): Promise<boolean> {
  if (size === 0) return false;
  if (!newline) return true;
  const last = Buffer.alloc(size - 1 - start);
  await handle.read(last, 0, last.length, start);
  const text = last.toString('utf8').replace(/\r$/, '');
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/** Complete lines of a log that needs no repair (reading it also validates every record). */
async function countLines(path: string, file: string): Promise<number> {
  let lines = 0;
  for await (const batch of readLogBatches(path, file)) lines += batch.length;
  return lines;
}

/** Validates every line before `end` (the torn line's start); returns how many there are. */
async function validateBefore(path: string, file: string, end: number): Promise<number> {
  const parser = new LogParser(file);
  if (end > 0) {
    // A stream of its own: closing it must not close the handle that truncates.
    const stream = createReadStream(path, { encoding: 'utf8', start: 0, end: end - 1 });
    const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of rl) parser.next(line);
    } finally {
      rl.close();
      stream.destroy();
    }
  }
  return parser.lines;
}

/** Cut a torn last record off a log file; `file` names it in messages. */
export async function repairLog(path: string, file: string = path): Promise<RepairResult> {
  const handle = await openForRepair(path, file);
  try {
    const size = (await handle.stat()).size;
    const newline = await endsWithNewline(handle, size);
    const start = await lastLineStart(handle, size, newline);
    const torn = await lastLineTorn(handle, size, start, newline);
    if (!torn) return { removed: null, lines: await countLines(path, file) };
    // Validate every line before the torn one, then cut.
    const lines = await validateBefore(path, file, start);
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
