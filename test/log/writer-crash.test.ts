/**
 * Crash safety of the writer (design "Layers" 4: "a writer that never leaves a torn
 * record that a later read accepts silently").
 *
 * A child process records events with LogWriter — in small write(2)s, so that a kill
 * lands inside a record — and prints the line number of each durable batch after its
 * fsync. The test kills it with SIGKILL at a random point, 100 times, and checks:
 *
 * - every acknowledged record is in the file, exactly as written;
 * - either the file reads as a complete log, or the reader reports its torn last
 *   line (`torn last record`, never a record accepted half-written), and after
 *   repairLog it reads as a complete log that still holds every acknowledged record;
 * - no line that the reader accepts differs from the record the child wrote there.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TornRecordError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { repairLog } from '../../src/log/repair.js';
import { formatRecord } from '../../src/log/writer.js';
import { ensureBuilt, OUT, tempDir } from '../cli/helpers.js';

const RUNS = 100;
const dir = tempDir('gpucr-crash-');
const child = join(dir, 'child.mjs');
const HEADER = { gpucr: 1, topology: { page_size: 4096, gpus: [{ gpu_id: 4660, render_minor: 128 }] } };

/** The i-th record the child writes (i from 0): line i + 2 of its log. */
function record(i: number): string {
  return formatRecord({ pid: 1 + i, call: 'open', args: { path: '/dev/kfd' } }, { ret: 0, out: { fd: 3 } });
}

beforeAll(() => {
  ensureBuilt();
  const writer = pathToFileURL(join(OUT, 'src/log/writer.js')).href;
  writeFileSync(
    child,
    [
      `import { LogWriter } from ${JSON.stringify(writer)};`,
      'const [path, syncEvery, maxWrite] = process.argv.slice(2);',
      `const w = LogWriter.create(path, ${JSON.stringify(HEADER)}, {`,
      '  syncEvery: Number(syncEvery),',
      '  maxWrite: Number(maxWrite),',
      '  onDurable: (line) => process.stdout.write(`${line}\\n`),',
      '});',
      'process.stdout.write("1\\n");',
      'for (let i = 0; ; i++) w.append({ pid: 1 + i, call: "open", args: { path: "/dev/kfd" } }, { ret: 0, out: { fd: 3 } });',
      '',
    ].join('\n'),
  );
}, 180_000);

interface Outcome {
  acked: number;
  torn: boolean;
  lines: number;
}

/** Run the child, kill it `delayMs` after its first acknowledgement; what the file holds then. */
function crashOnce(n: number, syncEvery: number, maxWrite: number, delayMs: number): Promise<Outcome> {
  const path = join(dir, `log-${n}.jsonl`);
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // nothing of the test runner's: a plain, quick node
    const p = spawn(process.execPath, [child, path, String(syncEvery), String(maxWrite)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (s: string) => {
      out += s;
      if (!timer) timer = setTimeout(() => p.kill('SIGKILL'), delayMs);
    });
    p.stderr.on('data', (s: Buffer) => {
      err += s.toString();
    });
    p.on('error', reject);
    p.on('close', (_code, signal) => {
      try {
        if (signal !== 'SIGKILL') throw new Error(`child ended by itself (${signal}): ${err}`);
        // Only whole lines of stdout count: the kill may cut the last acknowledgement.
        const acks = out.split('\n').slice(0, -1).map(Number);
        const acked = Math.max(...acks);
        resolve(check(path, acked));
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function check(path: string, acked: number): Promise<Outcome> {
  const text = readFileSync(path, 'utf8');
  let torn = false;
  try {
    readLog(text, path, { requireNewline: true });
  } catch (e) {
    if (!(e instanceof TornRecordError)) throw e;
    // The torn line is the last one, and it is not a complete record.
    const complete = text.lastIndexOf('\n') + 1;
    expect(e.line).toBe(text.slice(0, complete).split('\n').length);
    torn = true;
    const r = await repairLog(path);
    expect(r.removed).not.toBeNull();
  }
  const repaired = readFileSync(path, 'utf8');
  const { events } = readLog(repaired, path, { requireNewline: true });
  const lines = repaired.trimEnd().split('\n');
  expect(lines[0]).toBe(JSON.stringify(HEADER));
  // Every accepted line is exactly the record written there: nothing half-written got in.
  lines.slice(1).forEach((l, i) => expect(l).toBe(record(i)));
  // Every acknowledged record is still there.
  expect(events.length + 1).toBeGreaterThanOrEqual(acked);
  return { acked, torn, lines: lines.length };
}

describe('LogWriter under SIGKILL', () => {
  it(`keeps every acknowledged record and never lets a torn one be read (${RUNS} kills)`, async () => {
    const params = fc.sample(
      fc.record({
        // Frequent fsyncs (many acknowledgements), or rare ones and small writes (most
        // kills land inside a write of a batch).
        syncEvery: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 50, max: 400 })),
        maxWrite: fc.integer({ min: 1, max: 24 }),
        delayMs: fc.integer({ min: 0, max: 15 }),
      }),
      { numRuns: RUNS, seed: 0x6770 },
    );
    const outcomes: Outcome[] = [];
    // Six children at a time: the machine has two cores; much of a run is waiting.
    for (let i = 0; i < RUNS; i += 6) {
      const batch = params.slice(i, i + 6).map((p, j) => crashOnce(i + j, p.syncEvery, p.maxWrite, p.delayMs));
      outcomes.push(...(await Promise.all(batch)));
    }
    expect(outcomes.length).toBe(RUNS);
    // The kills did land inside records (the test would prove little otherwise) and after some acknowledgements.
    const torn = outcomes.filter((o) => o.torn).length;
    const acked = outcomes.filter((o) => o.acked > 1).length;
    expect(torn, `${torn} torn, ${acked} with acknowledged records`).toBeGreaterThanOrEqual(RUNS / 10);
    expect(acked, `${torn} torn, ${acked} with acknowledged records`).toBeGreaterThanOrEqual(RUNS / 10);
  }, 60_000);
});
