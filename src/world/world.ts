/**
 * Creating a world and looking things up in it. Lookups return undefined where
 * the kernel's lookup returns NULL, so handlers can map that to the right errno.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { ProcessContext } from '../../machines/kfd/process.js';
import { allocIdr, idrFind } from './idr.js';
import { contextOf } from './objects.js';
import { DEFAULT_CAPS } from './topology.js';
import {
  DEFAULT_VARIANTS,
  type FdRef,
  type GpuTopology,
  type OpenFile,
  type Task,
  type Topology,
  type Variants,
  type World,
} from './types.js';

export function createWorld(topology: Topology, variants: Partial<Variants> = {}): World {
  return {
    topology,
    variants: { ...DEFAULT_VARIANTS, ...variants },
    tasks: {},
    files: {},
    gems: {},
    objects: {},
    drm: {},
    alloc_idr: {},
    kfd_vram_used: {},
    oopses: [],
    faults: {},
    next: {
      object: 1,
      file: 1,
      gem: 1,
      mmap: Object.fromEntries(topology.gpus.map((g) => [g.gpu_id, 0n])),
    },
  };
}

/** The task of a pid, created (with fds 0, 1, 2 open on a tty) when first seen. */
export function taskOf(w: World, pid: number): Task {
  const existing = w.tasks[pid];
  if (existing?.alive) return existing;
  const spec = w.topology.processes.find((p) => p.pid === pid);
  const tty = `file#tty:${pid}`;
  w.files[tty] = { id: tty, kind: 'tty', refs: 3 };
  const task: Task = {
    pid,
    caps: spec ? [...spec.caps] : [...DEFAULT_CAPS],
    ptrace_parent: spec ? spec.ptrace_parent : null,
    alive: true,
    fds: { 0: tty, 1: tty, 2: tty },
    kfd_process: null,
    pdds: [],
    queues: {},
    events: {},
    svm_ranges: [],
  };
  w.tasks[pid] = task;
  return task;
}

export function liveTask(w: World, pid: number): Task | undefined {
  const t = w.tasks[pid];
  return t?.alive ? t : undefined;
}

/** The open file an fd reference names (`fd` of the caller or `"<pid>:<fd>"`). */
export function fileOf(w: World, caller: Task, ref: FdRef): OpenFile | undefined {
  const task = typeof ref === 'number' ? caller : liveTask(w, ref.pid);
  const fd = typeof ref === 'number' ? ref : ref.fd;
  const id = task?.fds[fd];
  return id === undefined ? undefined : w.files[id];
}

export function gpuById(w: World, gpuId: number): GpuTopology | undefined {
  return w.topology.gpus.find((g) => g.gpu_id === gpuId);
}

export function gpuByMinor(w: World, minor: number): GpuTopology | undefined {
  return w.topology.gpus.find((g) => g.render_minor === minor);
}

export function kfdProcessOf(w: World, pid: number): ProcessContext | undefined {
  const id = w.tasks[pid]?.kfd_process;
  return id ? contextOf<ProcessContext>(w, id) : undefined;
}

/** kfd_get_process_device_data(dev, p): the pdd of an actual device. */
export function pddByGpuId(w: World, task: Task, gpuId: number): string | undefined {
  return task.pdds.find((id) => contextOf<PddContext>(w, id).gpu_id === gpuId);
}

/** kfd_process_device_data_by_id(p, gpu_id): matches pdd->user_gpu_id. */
export function pddByUserGpuId(w: World, task: Task, userGpuId: number): string | undefined {
  return task.pdds.find((id) => contextOf<PddContext>(w, id).user_gpu_id === userGpuId);
}

export function pdd(w: World, id: string): PddContext {
  return contextOf<PddContext>(w, id);
}

export function bo(w: World, id: string): BoContext {
  return contextOf<BoContext>(w, id);
}

/** The BO behind an idr handle of a pdd (kfd_process_device_translate_handle). */
export function boByHandle(w: World, pddId: string, idrHandle: number): string | undefined {
  return idrFind(w, pddId, idrHandle);
}

/** A pdd's alloc_idr in handle order: [idr handle, BO object id] (idr_for_each). */
export function pddHandles(w: World, pddId: string): [number, string][] {
  return Object.entries(allocIdr(w, pddId)).map(([h, b]): [number, string] => [Number(h), b]);
}

/** The task whose kfd_process a /dev/kfd file belongs to (filep->private_data). */
export function kfdFileTask(w: World, file: OpenFile | undefined): Task {
  if (!file || file.kind !== 'kfd') throw new Error('not a /dev/kfd file');
  const task = w.tasks[file.pid];
  if (!task) throw new Error(`no task ${file.pid} for a /dev/kfd file`);
  return task;
}
