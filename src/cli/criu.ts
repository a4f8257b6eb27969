/**
 * `gpucr checkpoint`, `gpucr restore`, `gpucr roundtrip`: the CRIU orchestration
 * (src/criu/orchestrate.ts, spec §9.4, §9.5) on a replayed log or an image directory.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readImageDir } from '../criu/images/index.js';
import { orchestrationLines, orchestrationOut } from '../criu/orchestrate-log.js';
import { roundtrip } from '../criu/roundtrip.js';
import { InputError } from '../errors.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs } from '../ioctls/schema.js';
import { encodeHeader } from '../log/writer.js';
import { replayFile } from '../log/replay.js';
import { applyInPlace } from '../world/step.js';
import type { Call, World } from '../world/types.js';
import { parseTopology } from '../world/topology.js';
import { createWorld } from '../world/world.js';

/** Exit 1: the dump, the restore or the comparison failed (bad input is 2, via InputError). */
const EXIT_NOT = 1;

function pidOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InputError('--pid', 'a positive pid', v);
  return n;
}

async function worldOf(log: string): Promise<World> {
  const rep = await replayFile(log);
  if (!rep.ok)
    throw new InputError(
      log,
      'a log that replays without divergence',
      `a divergence or failure after ${rep.events} events`,
    );
  return rep.world;
}

function orchestrate(w: World, name: string, raw: Record<string, unknown>) {
  const call: Call = { call: name, args: decodeArgs(callDef(name)!.args, raw, `${name}.args`) };
  return { call, ...applyInPlace(w, call) };
}

export function registerCriu(program: Command): void {
  program
    .command('checkpoint <log>')
    .description('replay a log, then dump a process with CRIU + the amdgpu plugin into an image directory')
    .requiredOption('--pid <pid>', 'the process to dump', pidOf)
    .requiredOption('-D, --images-dir <dir>', 'where to write the amdgpu-*.img files')
    .action(async (log: string, o: { pid: number; imagesDir: string }) => {
      const w = await worldOf(log);
      if (!w.tasks[o.pid]?.alive) throw new InputError('--pid', `a live process of ${log}`, o.pid);
      const r = orchestrate(w, 'criu.dump', { pid: o.pid, dir: o.imagesDir });
      const out = orchestrationOut(r.out);
      process.stdout.write(
        `criu.dump ${o.pid}: ${r.ret === 0 ? 'done' : `failed: ${String(out.failure)}`} (${(r.out.issued as unknown[]).length} calls)\n`,
      );
      process.exitCode = r.ret === 0 ? 0 : EXIT_NOT;
    });
  program
    .command('restore')
    .description('restore an image directory into a fresh world with the images’ GPUs; optionally write the log')
    .requiredOption('-D, --images-dir <dir>', 'the amdgpu-*.img files')
    .option('--log <out>', 'write the restore as a log: the criu.restore line and its ioctls with by')
    .action((o: { imagesDir: string; log?: string }) => {
      if (!existsSync(o.imagesDir)) throw new InputError('-D', 'an image directory', o.imagesDir);
      const images = readImageDir(o.imagesDir);
      const k = images.kfd[0];
      if (!k) throw new InputError(o.imagesDir, 'an amdgpu-kfd-<id>.img', 'none');
      const raw = {
        page_size: 4096,
        gpus: k.kfd.device_entries
          .filter((d) => d.gpu_id !== 0)
          .map((d) => ({ gpu_id: d.gpu_id, render_minor: d.drm_render_minor, vram_size: d.vram_size.toString() })),
      };
      const topology = parseTopology(raw, []);
      const w = createWorld(topology);
      const r = orchestrate(w, 'criu.restore', { dir: o.imagesDir });
      if (o.log) {
        const header = encodeHeader({ gpucr: 1, topology, variants: w.variants } as never);
        writeFileSync(
          o.log,
          `${[JSON.stringify(header), ...orchestrationLines(r.call, r.ret, r.out, 2)].join('\n')}\n`,
        );
      }
      process.stdout.write(
        `criu.restore ${k.kfd.pid}: ${r.ret === 0 ? 'done' : `failed: ${String(r.out.failure)}`} (${(r.out.issued as unknown[]).length} calls)\n`,
      );
      process.exitCode = r.ret === 0 ? 0 : EXIT_NOT;
    });
  program
    .command('roundtrip <log>')
    .description('replay a log, dump a process, restore it into a fresh world and compare (exit 0 equivalent, 1 not)')
    .requiredOption('--pid <pid>', 'the process', pidOf)
    .action(async (log: string, o: { pid: number }) => {
      const w = await worldOf(log);
      if (!w.tasks[o.pid]?.alive) throw new InputError('--pid', `a live process of ${log}`, o.pid);
      const r = roundtrip(w, o.pid);
      if (r.equivalent)
        process.stdout.write(
          `equivalent: ${r.dump.calls.length} dump calls, ${r.restore!.calls.length} restore calls\n`,
        );
      else process.stdout.write(`not equivalent:\n${r.differences.map((d) => `  ${d}`).join('\n')}\n`);
      process.exitCode = r.equivalent ? 0 : EXIT_NOT;
    });
}
