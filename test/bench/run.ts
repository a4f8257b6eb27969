/**
 * `npm run bench`: replay throughput, measured side by side in one run (design
 * "Performance bars"; absolute times drift on shared machines, ratios do not).
 *
 *  1. read + JSON.parse of every line of the log, reading as the replay reads (a
 *     megabyte at a time, split at newlines): the floor any replay pays;
 *  2. read + validate: gpucr's reader over the same file as the replay reads it, no event
 *     applied (what is left of the replay is the handlers' and the replay loop's);
 *  3. the replay on one thread (`replayFile` with readThread 'never'), and gpucr replay of
 *     the log (`replayFile` as `gpucr replay` runs it: a log of 8 MiB or more is read and
 *     validated on a second thread while this one applies the events, read-thread.ts);
 *  4. the same events driven through XState actors built from the same machines
 *     (on a prefix when the full log would take too long; rates are per event),
 *     against the compiled replay of the same prefix.
 *
 * Each phase reports wall time and CPU time (user + system of this process, the reader
 * thread's included); on a machine shared with other jobs the CPU ratio is the steadier
 * one, except for the replay with a reader thread, whose point is to spend CPU time on a
 * second core to save wall time. With `runs` > 1 the
 * first four phases run that many times in turn (parse, validate, both replays, parse, …),
 * then the two prefix replays (compiled, actors, compiled, …), and each row gives its best
 * wall and best CPU time: one run on a shared machine can take
 * 1.3× another, and the turns expose every phase to the same periods of load. The heap after a
 * replay (after a full GC, when run with --expose-gc as `npm run bench` does) is given
 * for the prefix and for the whole log: both hold the same live BOs, so equal heaps show
 * that memory follows the live objects, not the log length.
 *
 * Usage: node --expose-gc dist/test/bench/run.js
 *          [replay [events=1000000] [bos=10000] [actorEvents=50000] [runs=1] | calls [events=300000] [bos=10000]
 *           | explore | roundtrip [bos] [runs] | roundtrip-shared [bos] [runs] | memory [events=20000000] [bos=10000]
 *           | snapshot [events=40000] [bos=10000] [runs=3]]
 * (no argument: replay and explore, with the default sizes).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLogBatches, referencedLinesOfFile } from '../../src/log/read-file.js';
import { replayFile } from '../../src/log/replay.js';
import { useReadThread } from '../../src/log/read-thread.js';
import { useActorBackend } from '../../src/world/objects.js';
import { callsBench } from './calls.js';
import { exploreBench } from './explore.js';
import { generateBenchLog } from './gen-log.js';
import { memoryBench } from './memory.js';
import { roundtripBench } from './roundtrip.js';
import { snapshotBench } from './snapshot.js';

/** Read a file a megabyte at a time and JSON.parse every line: what any reader of the log pays. */
function parseOnly(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let rest = '';
  let n = 0;
  try {
    for (;;) {
      const k = readSync(fd, buf, 0, buf.length, null);
      if (k === 0) break;
      const s = rest + buf.toString('utf8', 0, k);
      let at = 0;
      for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', at)) {
        JSON.parse(s.slice(at, nl));
        n++;
        at = nl + 1;
      }
      rest = s.slice(at);
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

/**
 * Read and validate every line as the replay does (the pre-scan for referenced lines, then
 * gpucr's reader keeping only their calls), without applying any event: the share of the
 * replay that is the reader's, whatever the handlers cost.
 */
async function readAndValidate(path: string): Promise<number> {
  const keep = (await referencedLinesOfFile(path)) ?? undefined;
  let n = 0;
  for await (const batch of readLogBatches(path, path, keep ? { keep } : {})) n += batch.length;
  return n;
}

interface Timed<T> {
  wall: number;
  cpu: number;
  value: T;
}

/** The best wall and the best CPU time of several runs of one phase (each may come from another run). */
function best<T>(runs: Timed<T>[]): Timed<T> {
  return {
    wall: Math.min(...runs.map((r) => r.wall)),
    cpu: Math.min(...runs.map((r) => r.cpu)),
    value: runs[runs.length - 1]!.value,
  };
}

async function timed<T>(f: () => Promise<T> | T): Promise<Timed<T>> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await f();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6, value };
}

/** Heap in use after a full collection (when gc is exposed; otherwise as it is). */
function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const [events = 1_000_000, bos = 10_000, actorEvents = 50_000, runs = 1] = process.argv
    .slice(2)
    .filter(Boolean)
    .map(Number);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`bench: runs must be a positive integer, found ${runs}`);
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-bench-'));
  try {
    const full = generateBenchLog(events, bos);
    const path = join(dir, 'bench.jsonl');
    writeFileSync(path, `${full.lines.join('\n')}\n`);
    full.lines.length = 0;
    const prefix = generateBenchLog(Math.min(actorEvents, events), bos);
    const prefixPath = join(dir, 'prefix.jsonl');
    writeFileSync(prefixPath, `${prefix.lines.join('\n')}\n`);

    const parses: Timed<number>[] = [];
    const validates: Timed<number>[] = [];
    const replays: Timed<Awaited<ReturnType<typeof replayFile>>>[] = [];
    const oneThread: Timed<Awaited<ReturnType<typeof replayFile>>>[] = [];
    for (let i = 0; i < runs; i++) {
      parses.push(await timed(() => parseOnly(path)));
      validates.push(await timed(() => readAndValidate(path)));
      // The previous replay's world is garbage before the next one runs.
      oneThread.push(await timed(() => replayFile(path, { readThread: 'never' })));
      oneThread[oneThread.length - 1]!.value.world = undefined as never;
      if (replays.length) replays[replays.length - 1]!.value.world = undefined as never;
      // What `gpucr replay` does: a file this large is read on a second thread.
      replays.push(await timed(() => replayFile(path)));
    }
    const [parse, validate, replay, single] = [best(parses), best(validates), best(replays), best(oneThread)];
    if (!replay.value.ok) throw new Error(`bench log diverged: ${JSON.stringify(replay.value.divergence?.mismatch)}`);
    // Heap with the replayed world alive (then it is let go before the next run).
    const heapFull = heapMiB();
    replay.value.world = undefined as never;
    // The prefix rows run `runs` times in turn as well, each giving its best: one run of the
    // 0.4 s compiled prefix moved the XState ratio by a fifth from one bench run to the next.
    const compiledPrefixes: Timed<Awaited<ReturnType<typeof replayFile>>>[] = [];
    const actorRuns: Timed<Awaited<ReturnType<typeof replayFile>>>[] = [];
    let heapPrefix = 0;
    for (let i = 0; i < runs; i++) {
      compiledPrefixes.push(await timed(() => replayFile(prefixPath)));
      if (i === 0) heapPrefix = heapMiB();
      compiledPrefixes[i]!.value.world = undefined as never;
      useActorBackend(true);
      actorRuns.push(await timed(() => replayFile(prefixPath)));
      useActorBackend(false);
      actorRuns[i]!.value.world = undefined as never;
    }
    const [compiledPrefix, actors] = [best(compiledPrefixes), best(actorRuns)];
    if (!actors.value.ok || !compiledPrefix.value.ok) throw new Error('prefix log diverged');

    const rows: [string, number, Timed<unknown>][] = [
      ['read + JSON.parse', events, parse],
      ['read + validate', events, validate],
      ['replay, one thread', events, single],
      ['gpucr replay', events, replay],
      ['gpucr replay (prefix)', prefix.events, compiledPrefix],
      ['XState actors (prefix)', prefix.events, actors],
    ];
    console.log(
      `replay benchmark: ${fmt(events)} events, ${fmt(bos)} live BOs${runs > 1 ? `, best of ${runs} runs in turn` : ''}`,
    );
    console.log(`  ${''.padEnd(24)} ${'wall s'.padStart(9)} ${'cpu s'.padStart(9)} ${'events/s (wall)'.padStart(16)}`);
    for (const [name, n, t] of rows)
      console.log(
        `  ${name.padEnd(24)} ${t.wall.toFixed(3).padStart(9)} ${t.cpu.toFixed(3).padStart(9)} ${fmt(n / t.wall).padStart(16)}`,
      );
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    console.log(
      `  replay / parse time:           wall ${ratio(replay.wall, parse.wall)}, cpu ${ratio(replay.cpu, parse.cpu)}  (bar: ≤ 4×)`,
    );
    console.log(
      `  on one thread:                 wall ${ratio(single.wall, parse.wall)}: reading and validating ${ratio(validate.wall, parse.wall)} of parse, applying the events ${ratio(single.wall - validate.wall, parse.wall)}`,
    );
    console.log(
      `  reader thread${useReadThread(statSync(path).size) ? '' : ' (not used here)'}:  one thread / gpucr replay wall ${ratio(single.wall, replay.wall)}`,
    );
    console.log(
      `  replay vs XState actors speed: wall ${ratio(actors.wall, compiledPrefix.wall)}, cpu ${ratio(actors.cpu, compiledPrefix.cpu)}  (bar: ≥ 10×, same ${fmt(prefix.events)} events)`,
    );
    console.log(`  replay events/s (wall):        ${fmt(events / replay.wall)}  (bar: ≥ 1,000,000)`);
    console.log(
      `  heap after replay:             ${heapPrefix.toFixed(1)} MiB after ${fmt(prefix.events)} events, ${heapFull.toFixed(1)} MiB after ${fmt(events)} (same ${fmt(bos)} live BOs)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const which = process.argv[2];
if (which === 'explore') exploreBench();
else if (which === 'roundtrip') roundtripBench(process.argv.slice(3));
else if (which === 'roundtrip-shared') roundtripBench(process.argv.slice(3), true);
else if (which === 'calls') callsBench(process.argv.slice(3));
else if (which === 'memory') await memoryBench(process.argv.slice(3));
else if (which === 'snapshot') snapshotBench(process.argv.slice(3));
else if (which === 'replay') {
  process.argv.splice(2, 1);
  await main();
} else {
  await main();
  exploreBench();
}
