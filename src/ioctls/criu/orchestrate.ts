/**
 * Orchestration events (design "Event log format"): `criu.dump {pid, pids?, dir?}` and
 * `criu.restore {dir?, dump?, pid?, criu?, order?}` drive the CRIU stage machines
 * (machines/criu/*.ts) and issue every ioctl through applyInPlace (src/criu/orchestrate.ts).
 * Their out holds `issued`: the calls issued, in order, each {pid?, call, fd?, args, ret, out,
 * stage}; a log writes them as their own lines with `by` = the orchestration line
 * (docs/log-format.md), and replay checks those lines against `issued` instead of applying them.
 */
import {
  criuDumpContextSpec,
  criuDumpMachine,
  criuRestoreContextSpec,
  criuRestoreMachine,
} from '../../../machines/criu/index.js';
import { type ImageDir, type PageContent, readImageDir, writeImageDir } from '../../criu/images/index.js';
import { type DumpedTask, dumpTree, type ProcessMemory, restoreImages } from '../../criu/orchestrate.js';
import { remapOptionsFromList } from '../../criu/remap.js';
import type { SavedDump } from '../../criu/saved-dump.js';
import { readCoreImage, writeCoreImage } from '../../criu/tasks-image.js';
import { registerMachine } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import { register } from '../registry.js';
import { arrayOf, str, u32 } from '../schema.js';
import './sdma-write.js';

export const CRIU_DUMP = 'criu.dump';
export const CRIU_RESTORE = 'criu.restore';
registerMachine(CRIU_DUMP, criuDumpMachine, criuDumpContextSpec);
registerMachine(CRIU_RESTORE, criuRestoreMachine, criuRestoreContextSpec);

/**
 * The dumps of a world, by criu.dump object id. They are part of the world (`w.saved`), as
 * an image directory on disk is part of the machine: a map beside the world, shared by
 * every world of a process, let a restore find images another exploration branch (or an
 * earlier run) had dumped under the same object id, so results depended on what ran before.
 */
function dumpsOf(w: World): Record<string, SavedDump> {
  return (w.saved ??= {}) as Record<string, SavedDump>;
}

/**
 * The images as the world keeps them: a BO without a pages image (`contents[i]` undefined) has
 * no pages to write back, as one with empty contents; the world holds no undefined array
 * element (canonical fingerprints of explored worlds refuse one).
 */
function storable(images: ImageDir): ImageDir {
  const fill = <T extends { contents?: (PageContent | undefined)[] }>(s: T): T =>
    s.contents ? { ...s, contents: s.contents.map((c) => c ?? {}) } : s;
  return { ...images, kfd: images.kfd.map(fill), renderD: images.renderD.map(fill) };
}

function criuOf(w: { topology: { processes: { pid: number; ptrace_parent: number | null }[] } }, pid: number) {
  return w.topology.processes.find((p) => p.pid === pid)?.ptrace_parent ?? 1;
}

register<{
  pid: number;
  pids: number[];
  dir: string;
  criu: number;
  state: string;
  failure: string;
  object: string;
  issued: unknown[];
}>({
  name: CRIU_DUMP,
  kind: 'internal',
  needsPid: false,
  models:
    'criu dump of a process tree (pid, then the tasks pids) with the amdgpu plugin: per task HANDLE_DEVICE_VMA and DUMP_EXT_FILE, then DUMP_DEVICES_LATE (spec §9.4, §9.8)',
  checks: [
    'a task of the tree does not exist → -ESRCH',
    'an issued ioctl fails, a KFD version < 1.8, or a dma-buf never matched → -EIO (out.failure says which; queues stay paused if it stopped before DUMP_DEVICES_LATE)',
  ],
  args: { pid: u32, pids: arrayOf(u32), dir: str, criu: u32 },
  out: ['object', 'state', 'failure', 'issued'],
  run({ w }, a) {
    const r = dumpTree(w, a.criu || criuOf(w, a.pid), [a.pid, ...a.pids]);
    a.object = r.object;
    a.issued = r.calls;
    a.state = r.ok ? 'done' : 'failed';
    if (r.failure) a.failure = r.failure;
    if (!r.ok) return r.failure?.startsWith('no task ') ? -3 : -5;
    dumpsOf(w)[r.object] = { images: storable(r.images), memory: r.memory, tasks: r.tasks };
    if (a.dir) {
      writeImageDir(a.dir, r.images);
      // the machine too: its GPUs (the device entries lack the GC version and XCC count) and its
      // kernel's and plugin's variants, for a restore on the same machine (docs/criu-images.md)
      const topology = { page_size: w.topology.page_size, gpus: w.topology.gpus };
      writeCoreImage(a.dir, { tasks: r.tasks, memory: r.memory, topology, variants: w.variants });
    }
    return 0;
  },
});

register<{
  dir: string;
  dump: string;
  pid: number;
  criu: number;
  order: number[];
  env: string[];
  state: string;
  failure: string;
  object: string;
  issued: unknown[];
}>({
  name: CRIU_RESTORE,
  kind: 'internal',
  needsPid: false,
  models:
    'criu restore of a dumped tree with the amdgpu plugin in CRIU stages, GPUs mapped onto the local ones by set_restore_gpu_maps with the KFD_*_CHECK switches of `env`, RESTORE_EXT_FILE retries across tasks (in the task order `order`, default the dump order), RESUME_DEVICES_LATE (spec §9.5, §9.6, §9.8, §9.10)',
  checks: [
    'neither dir nor a dump of this run → -EINVAL',
    'a restored pid is alive → -EEXIST',
    'an env entry that is not KFD_*_CHECK=0|1|YES|NO → bad input (exit 2)',
    'an issued ioctl fails, the GPUs cannot be mapped onto the local ones (set_restore_gpu_maps) or a RESTORE_EXT_FILE pass makes no progress → -EIO (out.failure)',
  ],
  args: { dir: str, dump: str, pid: u32, criu: u32, order: arrayOf(u32), env: arrayOf(str) },
  out: ['object', 'state', 'failure', 'issued'],
  run({ w }, a) {
    // the plugin reads its KFD_*_CHECK switches from the environment at init (spec §9.10)
    const remap = remapOptionsFromList(a.env, 'args.env');
    const saved = a.dir ? fromDir(a.dir) : Object.hasOwn(dumpsOf(w), a.dump) ? dumpsOf(w)[a.dump] : undefined;
    if (!saved) return -22;
    const { images, memory } = saved;
    // a one-task dump may be restored under another pid; a tree keeps its pids
    const one = saved.tasks === undefined || saved.tasks.length <= 1;
    const pid = (one && a.pid) || saved.tasks?.[0]?.pid || images.kfd[0]?.kfd.pid || 0;
    const pids = one ? [pid] : saved.tasks!.map((t) => t.pid);
    if (pids.some((p) => w.tasks[p]?.alive)) return -17;
    const r = restoreImages(w, images, {
      ...(one ? { pid } : {}),
      criu: a.criu || criuOf(w, pid),
      memory,
      ...(saved.tasks ? { tasks: saved.tasks } : {}),
      ...(a.order.length ? { order: a.order } : {}),
      fromDump: !a.dir,
      remap,
    });
    a.object = r.object;
    a.issued = r.calls;
    a.state = r.ok ? 'done' : 'failed';
    if (r.failure) a.failure = r.failure;
    return r.ok ? 0 : -5;
  },
});

/** The plugin's images of a directory, with CRIU core's tasks, fds and userptr pages when written. */
function fromDir(dir: string): { images: ImageDir; memory: ProcessMemory[]; tasks?: DumpedTask[] } {
  const core = readCoreImage(dir);
  return { images: readImageDir(dir), memory: core?.memory ?? [], ...(core ? { tasks: core.tasks } : {}) };
}
