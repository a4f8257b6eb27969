/**
 * `gpucr checkpoint`, `gpucr restore`, `gpucr roundtrip`: the CRIU orchestration
 * (src/criu/orchestrate.ts, spec §9.4, §9.5) on a replayed log or an image directory.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type KfdImageSet, readImageDir, restoreNoteLines } from '../criu/images/index.js';
import { REMAP_ENV, remapOptionsFromList } from '../criu/remap.js';
import { headerGpuOfEntry } from '../criu/restore-maps.js';
import { headerTopology, readCoreImage } from '../criu/tasks-image.js';
import { orchestrationLines, orchestrationOut } from '../criu/orchestrate-log.js';
import { roundtrip } from '../criu/roundtrip.js';
import { InputError } from '../errors.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs } from '../ioctls/schema.js';
import { encodeHeader } from '../log/writer.js';
import { replayFile } from '../log/replay.js';
import { applyInPlace } from '../world/step.js';
import type { Call, Topology, Variants, World } from '../world/types.js';
import { KFD_CRIU_OP } from '../uapi/index.js';
import { DEFAULT_CAPS, parseTopology } from '../world/topology.js';
import { createWorld } from '../world/world.js';
import { collect, parseVariants } from './check-options.js';

/** Exit 1: the dump, the restore or the comparison failed (bad input is 2, via InputError). */
const EXIT_NOT = 1;

function pidOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InputError('--pid', 'a positive pid', v);
  return n;
}

/** A repeatable --pid: the tasks of a tree, the root first. */
function pidsOf(v: string, prev: number[] | undefined): number[] {
  return [...(prev ?? []), pidOf(v)];
}

/** --order 101,100: the restore's task order. */
function orderOf(v: string): number[] {
  return v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n <= 0) throw new InputError('--order', 'pids separated by commas', v);
    return n;
  });
}

function liveTasks(w: World, log: string, pids: number[]): void {
  if (new Set(pids).size !== pids.length) throw new InputError('--pid', 'distinct pids', pids.join(','));
  for (const pid of pids) if (!w.tasks[pid]?.alive) throw new InputError('--pid', `a live process of ${log}`, pid);
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

/** `gpucr checkpoint <log>`: replay the log, then criu.dump the --pid tasks into -D. */
function registerCheckpoint(program: Command): void {
  program
    .command('checkpoint <log>')
    .description('replay a log, then dump a process with CRIU + the amdgpu plugin into an image directory')
    .requiredOption('--pid <pid>', 'a process to dump; repeat for the tasks of a tree, the root first', pidsOf)
    .requiredOption('-D, --images-dir <dir>', 'where to write the amdgpu-*.img files (and gpucr-core.json)')
    .action(async (log: string, o: { pid: number[]; imagesDir: string }) => {
      const w = await worldOf(log);
      liveTasks(w, log, o.pid);
      const [pid, ...pids] = o.pid;
      const r = orchestrate(w, 'criu.dump', { pid, pids, dir: o.imagesDir });
      const out = orchestrationOut(r.out);
      process.stdout.write(
        `criu.dump ${o.pid.join(',')}: ${r.ret === 0 ? 'done' : `failed: ${String(out.failure)}`} (${(r.out.issued as unknown[]).length} calls)\n`,
      );
      process.exitCode = r.ret === 0 ? 0 : EXIT_NOT;
    });
}

/** The GPUs of a KFD image's device entries, as a log header's `topology` gives them. */
function imageGpus(k: KfdImageSet): unknown {
  return { page_size: 4096, gpus: k.kfd.device_entries.filter((d) => d.gpu_id !== 0).map(headerGpuOfEntry) };
}

/** `--topology <file>`: a JSON object as a log header's `topology`, `{page_size?, gpus: [...]}`, with `processes`. */
function topologyFile(file: string, processes: unknown): Topology {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, 'a readable topology file', (e as NodeJS.ErrnoException).code ?? String(e));
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (e) {
    throw new InputError(file, 'a JSON topology {"gpus": [...]} as in a log header', (e as Error).message);
  }
  return parseTopology(raw, processes, `${file}: topology`);
}

/**
 * A fresh world for a restore from `dir`, with the tasks of gpucr-core.json holding CRIU's
 * capabilities. Its GPUs, the first found of: `--topology`; gpucr-core.json's `topology` (the
 * dumping machine's GPUs, whose GC version and XCC count the images do not carry: without them
 * a restore "on the same machine" would run on other GPUs); the first KFD image's device entries.
 */
function restoreWorld(dir: string, topologyPath: string | undefined, variants: Partial<Variants>) {
  if (!existsSync(dir)) throw new InputError('-D', 'an image directory', dir);
  const images = readImageDir(dir);
  const k = images.kfd[0];
  if (!k) throw new InputError(dir, 'an amdgpu-kfd-<id>.img', 'none');
  const core = readCoreImage(dir);
  // the restored tasks hold CRIU's credentials until RESTORE_CREDS (spec §9.3): CAP_SYS_PTRACE
  // lets one take another's published dma-buf with pidfd_getfd (docs/checkpoint-restore.md)
  const caps = [...DEFAULT_CAPS, 'CAP_SYS_PTRACE'];
  const pids = core?.tasks.map((t) => t.pid) ?? [];
  const processes = pids.map((pid) => ({ pid, caps }));
  const gpus = core?.topology ? headerTopology(core.topology) : imageGpus(k);
  const topology = topologyPath === undefined ? parseTopology(gpus, processes) : topologyFile(topologyPath, processes);
  // the dumping machine's kernel and plugin (gpucr-core.json), unless --variant names another
  const world = createWorld(topology, { ...core?.variants, ...variants });
  return { kfdPid: k.kfd.pid, pids, topology, world, notes: restoreNoteLines(images, {}, core?.tasks) };
}

/** The plugin's KFD_*_CHECK switches set in gpucr's environment, as `NAME=value` entries (spec §9.10). */
function remapEnv(): string[] {
  return Object.keys(REMAP_ENV)
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name}=${process.env[name]!}`);
}

type IssuedCall = { pid?: number; call: string; args: Record<string, unknown> };

/**
 * The GPU map each KFD restore used, from its CRIU_OP(RESTORE) device buckets: one line per
 * restored /dev/kfd, "  pid 100: gpu 0xa3e1 → 0x7001, 0x5c17 → 0x7002" (ids in hex, as sysfs).
 */
function gpuMapLines(issued: IssuedCall[]): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return issued
    .filter((c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.args.op === KFD_CRIU_OP.RESTORE)
    .map((c) => {
      const devices = (c.args.devices ?? []) as { user_gpu_id: number; actual_gpu_id: number }[];
      return `  pid ${c.pid}: gpu ${devices.map((d) => `${hex(d.user_gpu_id)} → ${hex(d.actual_gpu_id)}`).join(', ')}\n`;
    })
    .join('');
}

/** `gpucr restore -D <dir>`: criu.restore into a fresh world; --log writes the restore as a log. */
function registerRestore(program: Command): void {
  program
    .command('restore')
    .description(
      'restore an image directory into a fresh world of the dumping machine (gpucr-core.json) or of --topology and --variant; optionally write the log',
    )
    .requiredOption('-D, --images-dir <dir>', 'the amdgpu-*.img files')
    .option('--log <out>', 'write the restore as a log: the criu.restore line and its ioctls with by')
    .option('--order <pids>', 'the order in which the tasks of a tree take their turns, e.g. 101,100', orderOf)
    .option('--topology <file>', 'the local GPUs: a JSON topology as in a log header, {"gpus": [...]}')
    .option(
      '--variant <name=value>',
      'the restoring kernel or plugin: a design variant (repeatable) over gpucr-core.json’s, e.g. kfd-restore-mqd-size=num-xcc',
      collect,
      [],
    )
    .addHelpText(
      'after',
      '\nThe KFD_*_CHECK environment variables (KFD_VRAM_SIZE_CHECK=0, ...) switch the GPU remapping checks as for the plugin (spec §9.10).',
    )
    .action((o: { imagesDir: string; log?: string; order?: number[]; topology?: string; variant: string[] }) => {
      const env = remapEnv();
      remapOptionsFromList(env, 'environment');
      const variants = parseVariants(o.variant);
      const { kfdPid, pids, topology, world: w, notes } = restoreWorld(o.imagesDir, o.topology, variants);
      const r = orchestrate(w, 'criu.restore', { dir: o.imagesDir, order: o.order ?? [], env });
      if (o.log) {
        const header = encodeHeader({ gpucr: 1, topology, variants: w.variants } as never);
        writeFileSync(
          o.log,
          `${[JSON.stringify(header), ...orchestrationLines(r.call, r.ret, r.out, 2)].join('\n')}\n`,
        );
      }
      process.stdout.write(
        `criu.restore ${pids.length ? pids.join(',') : kfdPid}: ${r.ret === 0 ? 'done' : `failed: ${String(r.out.failure)}`} (${(r.out.issued as unknown[]).length} calls)\n${gpuMapLines(r.out.issued as IssuedCall[])}`,
      );
      // what the images say a restore will meet (gpucr images): why it failed, or what it may have got wrong
      if (notes.length > 0) process.stdout.write(`${notes.join('\n')}\n`);
      process.exitCode = r.ret === 0 ? 0 : EXIT_NOT;
    });
}

/** `gpucr roundtrip <log>`: replay, dump, restore into a fresh world and compare. */
function registerRoundtrip(program: Command): void {
  program
    .command('roundtrip <log>')
    .description('replay a log, dump a process, restore it into a fresh world and compare (exit 0 equivalent, 1 not)')
    .requiredOption('--pid <pid>', 'the process; repeat for the tasks of a tree, the root first', pidsOf)
    .option('--order <pids>', 'the order in which the restore gives the tasks their turns, e.g. 101,100', orderOf)
    .option('--topology <file>', 'restore onto these GPUs: a JSON topology as in a log header, {"gpus": [...]}')
    .addHelpText(
      'after',
      '\nThe KFD_*_CHECK environment variables (KFD_VRAM_SIZE_CHECK=0, ...) switch the GPU remapping checks as for the plugin (spec §9.10).',
    )
    .action(async (log: string, o: { pid: number[]; order?: number[]; topology?: string }) => {
      const remap = remapOptionsFromList(remapEnv(), 'environment');
      const w = await worldOf(log);
      liveTasks(w, log, o.pid);
      if (o.order && [...o.order].sort().join() !== [...o.pid].sort().join())
        throw new InputError('--order', `an order of the --pid tasks ${o.pid.join(',')}`, o.order.join(','));
      const topology = o.topology === undefined ? undefined : topologyFile(o.topology, w.topology.processes);
      const r = roundtrip(w, o.pid, {
        remap,
        ...(o.order ? { order: o.order } : {}),
        ...(topology ? { topology } : {}),
      });
      if (r.equivalent)
        process.stdout.write(
          `equivalent: ${r.dump.calls.length} dump calls, ${r.restore!.calls.length} restore calls\n`,
        );
      else process.stdout.write(`not equivalent:\n${r.differences.map((d) => `  ${d}`).join('\n')}\n`);
      process.exitCode = r.equivalent ? 0 : EXIT_NOT;
    });
}

export function registerCriu(program: Command): void {
  registerCheckpoint(program);
  registerRestore(program);
  registerRoundtrip(program);
}
