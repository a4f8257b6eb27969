/**
 * `npm run bench -- calls [events=300000] [bos=10000]`: where the replay's handler time goes,
 * per call. The replay benchmark's log (test/bench/gen-log.ts) is decoded first, then each
 * event is applied with `applyInPlace` and timed alone, so reading and validating are left
 * out: what is left is the handlers, the machines they move and the garbage they make (a
 * collection lands on the call that triggers it, so calls that allocate more carry more of
 * it). Rows are sorted by their share of the total; µs/call compares calls within one run.
 */
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { applyInPlace } from '../../src/world/step.js';
import { parseTopology } from '../../src/world/topology.js';
import type { Call } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';
import { generateBenchLog } from './gen-log.js';

interface Row {
  call: string;
  count: number;
  ms: number;
}

/** Decode the bench log into calls (as the reader would hand them to the replay). */
function decodeLog(events: number, bos: number): { topology: unknown; calls: Call[] } {
  const [header, ...lines] = generateBenchLog(events, bos).lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const calls = lines.map((l): Call => {
    const name = l.call as string;
    const c: Call = {
      call: name,
      args: decodeArgs(callDef(name)!.args, (l.args ?? {}) as Record<string, unknown>, `${name}.args`),
    };
    if (l.pid !== undefined) c.pid = l.pid as number;
    if (l.fd !== undefined) c.fd = l.fd as number;
    return c;
  });
  return { topology: header!.topology, calls };
}

export function callsBench(argv: string[]): void {
  const [events = 300_000, bos = 10_000] = argv.filter(Boolean).map(Number);
  const { topology, calls } = decodeLog(events, bos);
  const w = createWorld(parseTopology(topology, []));
  const rows = new Map<string, Row>();
  let total = 0;
  for (const c of calls) {
    const start = performance.now();
    const r = applyInPlace(w, c);
    const ms = performance.now() - start;
    if (r.ret !== 0) throw new Error(`bench log: ${c.call} returned ${r.ret}`);
    total += ms;
    let row = rows.get(c.call);
    if (!row) rows.set(c.call, (row = { call: c.call, count: 0, ms: 0 }));
    row.count += 1;
    row.ms += ms;
  }
  const us = (ms: number, n: number) => ((ms * 1000) / n).toFixed(2).padStart(9);
  console.log(
    `handler time per call: ${events.toLocaleString('en-US')} events, ${bos.toLocaleString('en-US')} live BOs`,
  );
  console.log(`  ${'call'.padEnd(36)} ${'calls'.padStart(8)}   µs/call    share`);
  for (const r of [...rows.values()].sort((a, b) => b.ms - a.ms))
    console.log(
      `  ${r.call.padEnd(36)} ${String(r.count).padStart(8)} ${us(r.ms, r.count)} ${((100 * r.ms) / total).toFixed(1).padStart(7)} %`,
    );
  console.log(`  ${'all'.padEnd(36)} ${String(calls.length).padStart(8)} ${us(total, calls.length)}   100.0 %`);
}
