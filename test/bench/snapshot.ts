/**
 * `npm run bench -- snapshot [events=40000] [bos=10000] [runs=3]`: what loading a world
 * snapshot costs, and how much of it the schema and ref checks take (docs/log-format.md
 * "Snapshots"; src/log/snapshot-contexts.ts, snapshot-indexes.ts).
 *
 * The world is the benchmark log's (gen-log.ts) after `events` events of one process keeping
 * `bos` BOs alive. Three phases run `runs` times in turn and each gives its best wall time:
 * JSON.parse of the snapshot text (the floor of any reader), `restoreSnapshot` of the text
 * (parse, decode, hash, every structure check), and the schema and ref checks alone, run
 * again on the restored world. Ratios are side by side in one run; absolute times drift.
 */
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { restoreSnapshot, snapshotText } from '../../src/log/snapshot.js';
import { checkSchemas } from '../../src/log/snapshot-world.js';
import type { World } from '../../src/world/types.js';
import { generateBenchLog } from './gen-log.js';

/** Wall seconds of the fastest of `runs` calls of each phase, the phases run in turn. */
function bestOf(runs: number, phases: (() => unknown)[]): number[] {
  const best = phases.map(() => Infinity);
  for (let i = 0; i < runs; i++)
    phases.forEach((f, p) => {
      const t0 = process.hrtime.bigint();
      f();
      best[p] = Math.min(best[p]!, Number(process.hrtime.bigint() - t0) / 1e9);
    });
  return best;
}

/** The schema and ref checks restoreSnapshot runs (checkSchemas), again on a world it restored. */
function schemaChecks(w: World): void {
  const stores = { objects: w.objects, files: w.files, gems: w.gems, tasks: w.tasks, topology: w.topology };
  checkSchemas(w as unknown as Record<string, unknown>, stores, 'world');
}

export function snapshotBench(argv: string[]): void {
  const [events = 40_000, bos = 10_000, runs = 3] = argv.filter(Boolean).map(Number);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`bench: runs must be a positive integer, found ${runs}`);
  const log = generateBenchLog(events, bos);
  const { header, events: lines } = readLog(`${log.lines.join('\n')}\n`, 'bench.jsonl');
  const world = replay(header, lines, { assertions: false }).world;
  const text = snapshotText(world);
  const restored = restoreSnapshot(text);
  const [parse, restore, checks] = bestOf(runs, [
    () => JSON.parse(text),
    () => restoreSnapshot(text),
    () => schemaChecks(restored),
  ]) as [number, number, number];
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  console.log(
    `snapshot of ${Object.keys(world.objects).length.toLocaleString('en-US')} objects, ` +
      `${Object.keys(world.gems).length.toLocaleString('en-US')} GEM records, ${(text.length / 1e6).toFixed(1)} MB ` +
      `(best of ${runs}, in turn)`,
  );
  console.log(`  JSON.parse                 ${ms(parse)}`);
  console.log(`  restoreSnapshot            ${ms(restore)}  (${(restore / parse).toFixed(1)}× JSON.parse)`);
  console.log(
    `  schema and ref checks      ${ms(checks)}  (${((100 * checks) / restore).toFixed(0)} % of restoreSnapshot)`,
  );
}
