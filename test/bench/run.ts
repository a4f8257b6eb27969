/**
 * `npm run bench`: replay throughput, measured side by side in one run (design
 * "Performance bars"; absolute times drift on shared machines, ratios do not).
 *
 *  1. read + JSON.parse of every line of the log (the floor any replay pays);
 *  2. gpucr replay of the log (validation pass + replay pass, as `gpucr replay`);
 *  3. the same events driven through XState actors built from the same machines
 *     (on a prefix when the full log would take too long; rates are per event).
 *
 * Usage: node dist/test/bench/run.js [replay [events=1000000] [bos=10000] [actorEvents=100000] | explore]
 * (no argument: both, with the default sizes).
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { replayFile } from '../../src/log/replay.js';
import { useActorBackend } from '../../src/world/objects.js';
import { exploreBench } from './explore.js';
import { generateBenchLog } from './gen-log.js';

async function parseOnly(path: string): Promise<number> {
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    JSON.parse(line);
    n++;
  }
  return n;
}

async function timed<T>(f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await f();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

const rate = (events: number, seconds: number) => Math.round(events / seconds).toLocaleString('en-US');

async function main(): Promise<void> {
  const [events = 1_000_000, bos = 10_000, actorEvents = 100_000] = process.argv.slice(2).filter(Boolean).map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-bench-'));
  try {
    const full = generateBenchLog(events, bos);
    const path = join(dir, 'bench.jsonl');
    writeFileSync(path, `${full.lines.join('\n')}\n`);
    const prefix = generateBenchLog(Math.min(actorEvents, events), bos);
    const prefixPath = join(dir, 'prefix.jsonl');
    writeFileSync(prefixPath, `${prefix.lines.join('\n')}\n`);

    const parse = await timed(() => parseOnly(path));
    const replay = await timed(() => replayFile(path));
    if (!replay.value.ok) throw new Error(`bench log diverged: ${JSON.stringify(replay.value.divergence?.mismatch)}`);
    const compiledPrefix = await timed(() => replayFile(prefixPath));
    useActorBackend(true);
    const actors = await timed(() => replayFile(prefixPath));
    useActorBackend(false);
    if (!actors.value.ok || !compiledPrefix.value.ok) throw new Error('prefix log diverged');

    const rows = [
      ['read + JSON.parse', events, parse.seconds],
      ['gpucr replay', events, replay.seconds],
      ['gpucr replay (prefix)', prefix.events, compiledPrefix.seconds],
      ['XState actors (prefix)', prefix.events, actors.seconds],
    ] as const;
    console.log(`replay benchmark: ${events.toLocaleString('en-US')} events, ${bos.toLocaleString('en-US')} live BOs`);
    for (const [name, n, s] of rows)
      console.log(`  ${name.padEnd(24)} ${s.toFixed(3).padStart(9)} s  ${rate(n, s).padStart(12)} events/s`);
    console.log(`  replay / parse time:            ${(replay.seconds / parse.seconds).toFixed(2)}×  (bar: ≤ 4×)`);
    console.log(
      `  replay vs XState actors speed:  ${(actors.seconds / compiledPrefix.seconds).toFixed(2)}×  (bar: ≥ 10×, same ${prefix.events.toLocaleString('en-US')} events)`,
    );
    console.log(`  replay events/s:                ${rate(events, replay.seconds)}  (bar: ≥ 1,000,000)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const which = process.argv[2];
if (which === 'explore') exploreBench();
else if (which === 'replay') {
  process.argv.splice(2, 1);
  await main();
} else {
  await main();
  exploreBench();
}
