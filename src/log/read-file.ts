/**
 * Reading a log file (docs/log-format.md): a megabyte at a time, split into lines as
 * node:readline splits them, each validated by the LogParser (src/log/reader.ts) and
 * delivered in batches; and the byte scan that finds the lines references name before a
 * replay parses anything.
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { type LogItem, LogParser, type ReadOptions } from './reader.js';

/** A log file opened for reading: its handle, its size when opened, and whether it ends with a newline. */
async function openLog(path: string, file: string) {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new InputError(file, 'a readable log file', (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  try {
    const size = (await handle.stat()).size;
    let newline = false;
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      newline = last[0] === 0x0a;
    }
    return { handle, size, newline };
  } catch (e) {
    await handle.close();
    throw new InputError(file, 'a readable log file', (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
}

/** Bytes read at a time: large enough that the per-chunk cost vanishes, small enough to stream. */
const CHUNK = 1 << 20;
/**
 * Items validated at a time: the consumer takes each few before the next are built, so
 * that they die young (a megabyte's items built at once outlive a young-generation
 * collection and are copied, which cost a replay a tenth of its time).
 */
const YIELD_ITEMS = 256;

/**
 * The lines of the first `size` bytes of a file, in batches (one per chunk read), split
 * at the line ends node:readline recognises (\r\n, \n, \r) so that every reader numbers
 * lines alike. The text after the last line end is the last line (when not empty).
 */
async function* lineBatches(handle: Awaited<ReturnType<typeof open>>, size: number): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  let carry = '';
  let pos = 0;
  while (pos < size) {
    const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    let text = carry + decoder.write(buf.subarray(0, bytesRead));
    // A \r at the end may be the first half of \r\n: keep it for the next chunk.
    let held = '';
    if (pos < size && text.endsWith('\r')) {
      held = '\r';
      text = text.slice(0, -1);
    }
    const lines: string[] = [];
    let at = 0;
    if (text.indexOf('\r') < 0) {
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', at)) {
        lines.push(text.slice(at, nl));
        at = nl + 1;
      }
    } else {
      const ends = /\r\n|\n|\r/g;
      for (let m = ends.exec(text); m; m = ends.exec(text)) {
        lines.push(text.slice(at, m.index));
        at = m.index + m[0].length;
      }
    }
    carry = text.slice(at) + held;
    if (lines.length) yield lines;
  }
  carry += decoder.end();
  if (carry !== '') yield carry.split(/\r\n|\n|\r/);
}

/**
 * Stream a log file in batches of validated items: the header first, then each event,
 * each validated as it is read (one batch per megabyte read, so that a replay pays the
 * asynchronous iteration per batch, not per line). `file` names the log in messages
 * (default: the path). The torn-record rule applies to the last line unless
 * `opts.requireNewline` is false.
 */
export async function* readLogBatches(
  path: string,
  file: string = path,
  opts: ReadOptions & { keep?: ReadonlySet<number> } = {},
): AsyncGenerator<LogItem[]> {
  // Read what the file held when it was opened: a log still being appended to is
  // read up to that point, and the torn-record rule applies to that last line.
  const { handle, size, newline } = await openLog(path, file);
  const parser = new LogParser(file, undefined, opts.keep);
  const torn = opts.requireNewline !== false;
  const onLine = opts.onLine;
  try {
    // One line of look-ahead: the last line is validated by the torn-record rule.
    let held: string | undefined;
    for await (const lines of lineBatches(handle, size)) {
      let items: LogItem[] = [];
      let bad: unknown;
      for (const line of lines) {
        if (held !== undefined) {
          try {
            items.push(parser.next(held));
          } catch (e) {
            bad = e;
            break;
          }
          if (items.length === YIELD_ITEMS) {
            yield items;
            items = [];
          }
        }
        held = line;
        if (onLine) onLine(line.length + 1);
      }
      // The lines before a bad one are delivered first, as a line-by-line reader would.
      if (items.length) yield items;
      if (bad !== undefined) throw bad;
    }
    if (held !== undefined) yield [torn ? parser.last(held, newline) : parser.next(held)];
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new InputError(file, 'a readable log file', code);
    throw e;
  } finally {
    await handle.close();
  }
  parser.end();
}

/** Stream a log file item by item (readLogBatches, flattened). */
export async function* readLogLines(
  path: string,
  file: string = path,
  opts: ReadOptions = {},
): AsyncGenerator<LogItem> {
  for await (const batch of readLogBatches(path, file, opts)) yield* batch;
}

/**
 * The lines a log's references name, found by a byte scan for `"$<digits>.` (no JSON
 * parse): replay keeps the outs of exactly these lines. A log with `\u` escapes could
 * spell a reference that the scan does not see, so for one the answer is null and the
 * caller validates the log first to learn them.
 */
export async function referencedLinesOfFile(path: string, file: string = path): Promise<Set<number> | null> {
  const { handle, size } = await openLog(path, file);
  const refs = new Set<number>();
  try {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)) + 32);
    // The last bytes of the previous chunk are scanned again: a reference may straddle chunks.
    let keep = 0;
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await handle.read(buf, keep, Math.min(buf.length - keep, size - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const end = keep + bytesRead;
      const view = buf.subarray(0, end);
      if (view.indexOf('\\u') >= 0) return null;
      for (let at = view.indexOf('"$'); at >= 0; at = view.indexOf('"$', at + 2)) {
        let line = 0;
        let i = at + 2;
        while (i < end && view[i]! >= 0x30 && view[i]! <= 0x39 && i - at < 14) line = line * 10 + (view[i++]! - 0x30);
        if (i === end && pos < size) break;
        if (i > at + 2 && view[i] === 0x2e) refs.add(line);
      }
      keep = Math.min(16, end);
      buf.copy(buf, 0, end - keep, end);
    }
  } finally {
    await handle.close();
  }
  return refs;
}

/** Progress of reading a file of `size` bytes: told the characters of each line read, it reports every 64 KiB. */
export function progressCounter(size: number, report: (done: number, total: number) => void): (n: number) => void {
  let bytes = 0;
  let lastReport = 0;
  return (n) => {
    bytes += n;
    if (bytes - lastReport >= 1 << 16) {
      lastReport = bytes;
      report(Math.min(bytes, size), size);
    }
  };
}

/** The size of a file in bytes, or 0 when it cannot be stat'ed (the reader then reports why it cannot be read). */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
