/**
 * A restore's issued calls as a log, replayed from a fresh world (issue 5 item 5,
 * docs/log-format.md): shared by the round-trip properties of one process and of a tree.
 */
import { expect } from 'vitest';
import type { RoundtripResult } from '../../src/criu/roundtrip.js';
import { canonicalJson } from '../../src/log/canonical.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { formatRecord } from '../../src/log/writer.js';
import type { Call, World } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';

/** The restore's issued calls as a log (each result asserted) for `world`'s topology. */
export function restoreLog(world: World, r: RoundtripResult): string {
  const header = {
    gpucr: 1,
    topology: {
      page_size: world.topology.page_size,
      gpus: world.topology.gpus.map((g) => ({ gpu_id: g.gpu_id, render_minor: g.render_minor })),
    },
    processes: world.topology.processes.map((p) => ({
      pid: p.pid,
      caps: p.caps,
      ...(p.ptrace_parent === null ? {} : { ptrace_parent: p.ptrace_parent }),
    })),
  };
  const lines = [JSON.stringify(header)];
  for (const c of r.restore!.calls) {
    const call: Call = { call: c.call, args: c.args };
    if (c.pid !== undefined) call.pid = c.pid;
    if (c.fd !== undefined) call.fd = c.fd;
    lines.push(formatRecord(call, { ret: c.ret, out: c.out }));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Replays the restore log from a fresh world and returns [restored, replayed] canonical texts.
 * The criu.restore stage object is the one thing the plain calls do not create: it is left
 * out of the restored world and its id is reserved in the fresh one.
 */
export function replayRestore(r: RoundtripResult): [string, string] {
  const restored = r.restored!;
  const { header, events } = readLog(restoreLog(restored, r), 'restore.jsonl');
  const fresh = createWorld(restored.topology, restored.variants);
  fresh.next.object += 1;
  const rep = replay(header, events, { world: fresh, involve: false });
  expect(rep.divergence).toBeUndefined();
  const { [r.restore!.object]: _orchestration, ...objects } = restored.objects;
  return [canonicalJson({ ...restored, objects }), canonicalJson(rep.world)];
}
