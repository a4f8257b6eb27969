/**
 * The replay's reader thread (src/log/read-thread.ts): it gives the items readLogBatches
 * gives, throws the error readLogBatches throws after the same items, stops when the
 * replay stops, and a replay through it reports exactly what a replay on one thread does
 * (docs/log-format.md "Replay", issue 4).
 *
 * A worker thread runs JavaScript, not the TypeScript sources the test runner transforms,
 * so these tests use the tests' own build of the package (dist/.cli-test, test/cli/helpers.ts).
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateBenchLog } from '../bench/gen-log.js';
import { ensureBuilt, gpucr, OUT, ROOT, STACK, tempDir } from '../cli/helpers.js';
import { exact } from './exact.js';

type ReadFile = typeof import('../../src/log/read-file.js');
type ReadThreadModule = typeof import('../../src/log/read-thread.js');
type ReplayModule = typeof import('../../src/log/replay.js');
type LogItem = import('../../src/log/reader.js').LogItem;
type WorldModule = typeof import('../../src/world/world.js');
type RunModule = typeof import('../../src/cli/run.js');

let readFile: ReadFile;
let thread: ReadThreadModule;
let replay: ReplayModule;
let dir: string;
/** A log of several batches (the reader reads a megabyte at a time; the thread posts 4,096 items at a time). */
let big: string;

const load = async <T>(p: string): Promise<T> => (await import(pathToFileURL(join(OUT, p)).href)) as T;

beforeAll(async () => {
  ensureBuilt();
  readFile = await load<ReadFile>('src/log/read-file.js');
  thread = await load<ReadThreadModule>('src/log/read-thread.js');
  replay = await load<ReplayModule>('src/log/replay.js');
  dir = tempDir('gpucr-read-thread-');
  big = join(dir, 'big.jsonl');
  writeFileSync(big, `${generateBenchLog(40_000, 500).lines.join('\n')}\n`);
}, 180_000);

interface Outcome {
  /** The items of every batch, in order (where one batch ends is not part of the contract). */
  items: LogItem[];
  batches: number;
  error?: { name: string; message: string; line?: number; column?: number; path?: string };
}

async function collect(batches: AsyncIterable<LogItem[]>): Promise<Outcome> {
  const out: Outcome = { items: [], batches: 0 };
  try {
    for await (const b of batches) {
      out.batches += 1;
      for (const item of b) out.items.push(item);
    }
  } catch (e) {
    const { name, message, line, column, path } = e as Error & Record<string, unknown>;
    out.error = { name, message, line: line as number, column: column as number, path: path as string };
  }
  return out;
}

async function both(path: string, keep?: ReadonlySet<number>): Promise<[Outcome, Outcome]> {
  const inline = await collect(readFile.readLogBatches(path, path, keep ? { keep } : {}));
  const threaded = await collect(new thread.ReadThread(path, path).batches(keep));
  return [inline, threaded];
}

const examples = () =>
  readdirSync(join(ROOT, 'docs/examples'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => join(ROOT, 'docs/examples', f));

describe('reader thread: the same items as readLogBatches', () => {
  it('is available in the built package', () => {
    expect(thread.readThreadAvailable()).toBe(true);
    expect(thread.useReadThread(thread.READ_THREAD_MIN_BYTES, 'never')).toBe(false);
    expect(thread.useReadThread(0, 'always')).toBe(true);
    expect(thread.useReadThread(0)).toBe(false);
  });

  it('every example log, and a log of several batches', async () => {
    for (const f of [...examples(), big]) {
      const keep = (await readFile.referencedLinesOfFile(f)) ?? undefined;
      const [inline, threaded] = await both(f, keep);
      expect(threaded.error, f).toBeUndefined();
      expect(exact(threaded.items), f).toBe(exact(inline.items));
    }
    const [inline, threaded] = await both(big);
    expect(inline.batches).toBeGreaterThan(3);
    expect(threaded.batches).toBeGreaterThan(3);
  });

  it('a bad line after several batches: the items before it, then the same LogError', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, readFileSync(big, 'utf8'));
    appendFileSync(bad, '{"pid":100,"call":"AMDKFD_IOC_SET_EVENT","fd":3,"args":{"event_id":"0xZZ"}}\n');
    appendFileSync(bad, '{"pid":100,"call":"AMDKFD_IOC_SET_EVENT","fd":3,"args":{"event_id":1}}\n');
    const [inline, threaded] = await both(bad);
    expect(inline.error?.name).toBe('LogError');
    expect(inline.error?.message).toMatch(/bad\.jsonl:40002:\d+: args\.event_id: expected/);
    expect(threaded.error).toEqual(inline.error);
    expect(inline.items.length).toBe(40_001);
    expect(exact(threaded.items)).toBe(exact(inline.items));
  });

  it('a torn last line, a missing file, an empty file: the same error', async () => {
    const torn = join(dir, 'torn.jsonl');
    writeFileSync(torn, `${readFileSync(big, 'utf8')}{"pid":100,"call":"AMDKFD_IO`);
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const expected: [string, string][] = [
      [torn, 'TornRecordError'],
      [join(dir, 'missing.jsonl'), 'InputError'],
      [empty, 'LogError'],
    ];
    for (const [f, name] of expected) {
      const [inline, threaded] = await both(f);
      expect(inline.error?.name, f).toBe(name);
      expect(threaded.error, f).toEqual(inline.error);
      expect(exact(threaded.items), f).toBe(exact(inline.items));
    }
  });

  it('random damage to one line of a two-batch log: the same items, then the same error (30 cases)', async () => {
    const lines = generateBenchLog(6_000, 50).lines;
    const damaged = join(dir, 'damaged.jsonl');
    let errors = 0;
    const damage = fc.record({
      line: fc.nat({ max: lines.length - 1 }),
      at: fc.nat(),
      how: fc.constantFrom('flip', 'cut', 'value', 'drop'),
      value: fc.jsonValue({ maxDepth: 2 }),
    });
    await fc.assert(
      fc.asyncProperty(damage, async ({ line, at, how, value }) => {
        const ls = [...lines];
        const l = ls[line]!;
        const i = at % l.length;
        if (how === 'flip') ls[line] = l.slice(0, i) + String.fromCharCode(l.charCodeAt(i) ^ 0x21) + l.slice(i + 1);
        else if (how === 'cut') ls[line] = l.slice(0, i);
        else if (how === 'drop') ls[line] = l.replace(/"[a-z_]+":("[^"]*"|[^,{}]*),?/, '');
        else ls[line] = l.replace(/:(-?\d+|"[^"]*")/, `:${JSON.stringify(value) ?? 'null'}`);
        writeFileSync(damaged, `${ls.join('\n')}\n`);
        const [inline, threaded] = await both(damaged);
        if (inline.error) errors += 1;
        expect(threaded.error).toEqual(inline.error);
        expect(exact(threaded.items)).toBe(exact(inline.items));
      }),
      { numRuns: 30 },
    );
    // Most damage is bad input (some, such as a changed digit, is not).
    expect(errors).toBeGreaterThan(10);
  }, 120_000);

  it('stops its thread when the reading stops early', async () => {
    let n = 0;
    for await (const b of new thread.ReadThread(big, big).batches(undefined)) {
      expect(b.length).toBeGreaterThan(0);
      if (++n === 2) break;
    }
    // A live worker holds a MessagePort open; a stopped one holds nothing.
    await new Promise((r) => setImmediate(r));
    expect(process.getActiveResourcesInfo()).not.toContain('MessagePort');
  });
});

describe('replay through the reader thread reports what a replay on one thread does', () => {
  const report = async (path: string, readThread: 'always' | 'never', extra: object = {}) => {
    const progress: number[] = [];
    const r = await replay.replayFile(path, {
      readThread,
      onProgress: (phase, done) => phase === 'replay' && progress.push(done),
      ...extra,
    });
    const { world, ...rest } = r as typeof r & { world?: unknown };
    return { text: exact({ ...rest, world }), progress };
  };

  it('every example log and the log of several batches: the same report, byte for byte', async () => {
    for (const f of [...examples(), big]) {
      const a = await report(f, 'never');
      const b = await report(f, 'always');
      expect(b.text, f).toBe(a.text);
    }
  });

  it('a divergence and --until: the same report; progress reaches the end of the file', async () => {
    const diverging = join(dir, 'diverging.jsonl');
    const lines = readFileSync(big, 'utf8').split('\n');
    lines[30_000] = lines[30_000]!.replace('"ret":0', '"ret":-22');
    writeFileSync(diverging, lines.join('\n'));
    const a = await report(diverging, 'never');
    const b = await report(diverging, 'always');
    expect(a.text).toContain('"divergence"');
    expect(b.text).toBe(a.text);
    const u1 = await report(big, 'never', { until: 20_000 });
    const u2 = await report(big, 'always', { until: 20_000 });
    expect(u2.text).toBe(u1.text);
    const size = readFileSync(big).length;
    const full = await report(big, 'always');
    expect(full.progress.at(-1)).toBeGreaterThan(size * 0.9);
    expect(full.progress).toEqual([...full.progress].sort((x, y) => x - y));
  });

  it('gpucr run through the reader thread writes the same recorded log, byte for byte', async () => {
    const run = await load<RunModule>('src/cli/run.js');
    for (const f of [...examples(), big]) {
      const a = join(dir, 'run-one-thread.jsonl');
      const b = join(dir, 'run-reader-thread.jsonl');
      const sa = await run.runScript(f, a, { readThread: 'never' });
      const sb = await run.runScript(f, b, { readThread: 'always' });
      expect(sb, f).toEqual(sa);
      expect(readFileSync(b, 'utf8'), f).toBe(readFileSync(a, 'utf8'));
    }
  });

  it('a replay that stops at the header (a --from world of another topology) stops the thread too', async () => {
    const world = (await load<WorldModule>('src/world/world.js')).createWorld({
      page_size: 4096,
      gpus: [],
      processes: [],
    } as never);
    await expect(replay.replayFile(big, { readThread: 'always', world })).rejects.toThrow(/topology/);
    await new Promise((r) => setImmediate(r));
    expect(process.getActiveResourcesInfo()).not.toContain('MessagePort');
  });

  it('gpucr replay of a log of more than 8 MiB (read on a second thread): exit 0, and exit 2 naming a bad line', () => {
    const large = join(dir, 'large.jsonl');
    writeFileSync(large, `${generateBenchLog(90_000, 500).lines.join('\n')}\n`);
    expect(readFileSync(large).length).toBeGreaterThan(thread.READ_THREAD_MIN_BYTES);
    const ok = gpucr(['replay', '--json', large]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).events).toBe(90_000);
    appendFileSync(large, '{"pid":100,"call":"AMDKFD_IOC_SET_EVENT","fd":3,"args":{"event_id":-1}}\n');
    const bad = gpucr(['replay', large]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/large\.jsonl:90002:\d+: args\.event_id: expected an unsigned 32-bit integer, found -1/);
    expect(bad.stderr).not.toMatch(STACK);
  });
});
