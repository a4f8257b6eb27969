/**
 * `npm run bench -- memory [events=20000000] [bos=10000]`: replay memory against log length
 * (issue 4 items 1 and 7: "a multi-gigabyte log never sits in memory"; "replay memory stays
 * proportional to the live objects, not to the log length").
 *
 * The benchmark log (gen-log.ts) is written twice, streamed to disk: 1,000,000 events and
 * `events` events (20,000,000 by default: 2.3 GB), both of one process keeping `bos` BOs
 * alive. Each is replayed as `gpucr replay` replays it (`replayFile`, the reader thread on),
 * the small one first. After each: the process's peak resident set (`maxRSS`, which only
 * grows, so the second figure is the peak over both replays) and the heap in use after a
 * full collection. Both logs hold the same live objects, so a peak and a heap that do not
 * grow with the 20× longer log show that memory follows the objects.
 *
 * The files go to the system's temporary directory (2.3 GB free is needed at the default
 * size) and are removed at the end. The replay of 20M events takes about two minutes here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayFile } from '../../src/log/replay.js';
import { writeBenchLog } from './gen-log.js';

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Heap in use after a full collection (run with --expose-gc, as `npm run bench` does). */
function heapAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

interface Row {
  events: number;
  bytes: number;
  seconds: number;
  peakRss: number;
  heap: number;
}

async function replayRow(path: string, events: number, bytes: number): Promise<Row> {
  const t0 = process.hrtime.bigint();
  const r = await replayFile(path);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!r.ok || r.events !== events) throw new Error(`bench: the ${fmt(events)}-event log did not replay cleanly`);
  // The world is alive here: the heap is the world's (and gpucr's own).
  const heap = heapAfterGc();
  return { events, bytes, seconds, peakRss: process.resourceUsage().maxRSS * 1024, heap };
}

export async function memoryBench(args: string[]): Promise<void> {
  const [events = 20_000_000, bos = 10_000] = args.filter(Boolean).map(Number);
  if (!Number.isInteger(events) || events < 1 || !Number.isInteger(bos) || bos < 1)
    throw new Error(`bench memory: events and bos must be positive integers, found ${args.join(' ')}`);
  const small = Math.min(1_000_000, events);
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-bench-memory-'));
  try {
    const rows: Row[] = [];
    for (const n of [small, events]) {
      const path = join(dir, `bench-${n}.jsonl`);
      const bytes = writeBenchLog(path, n, bos);
      rows.push(await replayRow(path, n, bytes));
      rmSync(path);
    }
    console.log(`replay memory: ${fmt(bos)} live BOs, logs of ${fmt(small)} and ${fmt(events)} events`);
    console.log(
      `  ${'events'.padStart(12)} ${'log size'.padStart(12)} ${'replay s'.padStart(9)} ${'events/s'.padStart(10)} ${'peak RSS'.padStart(12)} ${'heap after'.padStart(12)}`,
    );
    for (const r of rows)
      console.log(
        `  ${fmt(r.events).padStart(12)} ${mib(r.bytes).padStart(12)} ${r.seconds.toFixed(1).padStart(9)} ${fmt(r.events / r.seconds).padStart(10)} ${mib(r.peakRss).padStart(12)} ${mib(r.heap).padStart(12)}`,
      );
    const [a, b] = [rows[0]!, rows[1]!];
    console.log(
      `  ${(b.bytes / a.bytes).toFixed(1)}× the log: peak RSS ${(b.peakRss / a.peakRss).toFixed(2)}×, heap ${(b.heap / a.heap).toFixed(2)}× (the same live objects)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
