/**
 * What the CRIU dump and restore orchestrations (src/criu/dump.ts, src/criu/restore.ts) share:
 * the call issuer that applies and records every ioctl, the `kfd_device_entry` of a GPU, an
 * index of a task's KFD BOs by (user gpu id, address), and the test for an activated process.
 */
import '../ioctls/all.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs } from '../ioctls/schema.js';
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import { contextOf, inState } from '../world/objects.js';
import { applyInPlace, type CallResult } from '../world/step.js';
import type { FdRef, World } from '../world/types.js';
import { liveTask, pddHandles } from '../world/world.js';
import type { ImageDir, KfdDeviceEntry, PageContent } from './images/index.js';

/** One call an orchestration issued: the call as the model received it and its result. */
export interface OrchestratedCall {
  pid?: number;
  call: string;
  fd?: FdRef;
  /** Arguments decoded by the call's schema. */
  args: Record<string, unknown>;
  ret: number;
  out: Record<string, unknown>;
  /** The CRIU stage / plugin hook that issued it. */
  stage: string;
}

/** Applies calls to a world in place and records them (the shape CallIssuer users expect). */
export class Issuer {
  readonly calls: OrchestratedCall[] = [];
  /** Called after every issued call. */
  onIssued: (() => void) | undefined;
  constructor(readonly world: World) {}

  issue(
    stage: string,
    pid: number | undefined,
    call: string,
    fd: FdRef | undefined,
    raw: Record<string, unknown> = {},
  ): CallResult {
    const def = callDef(call);
    if (!def) throw new Error(`no call ${call}`);
    const args = decodeArgs(def.args, raw, `${call}.args`);
    const c = { call, args, ...(pid === undefined ? {} : { pid }), ...(fd === undefined ? {} : { fd }) };
    const r = applyInPlace(this.world, c);
    this.calls.push({ ...c, ret: r.ret, out: r.out, stage });
    this.onIssued?.();
    return r;
  }
}

/** The images of a dump (ImageDir) plus what a restore needs that the images name indirectly. */
export interface DumpResult {
  ok: boolean;
  failure: string | null;
  /** The criu.dump object. */
  object: string;
  images: ImageDir;
  /**
   * Contents of userptr BOs: ordinary process memory, which CRIU core saves in its own pages
   * images, not the plugin (spec §9.7). Keyed by user gpu_id and address.
   */
  memory: ProcessMemory[];
  calls: OrchestratedCall[];
  /**
   * The dumped tasks, in dump order, with the CRIU file id of each fd the plugin dumped: what
   * CRIU core's pstree and fdinfo images say (not the plugin's; src/criu/tasks-image.ts).
   */
  tasks: DumpedTask[];
}

/** A dumped task and its plugin files: fd → CRIU file id (one id per open file, spec §9.3). */
export interface DumpedTask {
  pid: number;
  fds: { fd: number; id: number }[];
}

/** One userptr BO's pages as CRIU core dumps them (process memory). */
export interface ProcessMemory {
  /** The task whose memory it is. */
  pid: number;
  gpu_id: number;
  addr: bigint;
  content: PageContent;
}

export const KFD_MIN = { major: 1, minor: 8 };

export function deviceEntry(w: World, node: number, userId: number, actualId: number): KfdDeviceEntry {
  const g = w.topology.gpus.find((x) => x.gpu_id === actualId)!;
  return {
    node_id: node,
    gpu_id: userId,
    cpu_cores_count: 0,
    simd_count: 4,
    mem_banks_count: 1,
    caches_count: 0,
    io_links_count: 0,
    max_waves_per_simd: 8,
    lds_size_in_kb: 64,
    gds_size_in_kb: 0,
    num_gws: 0,
    wave_front_size: 64,
    array_count: 1,
    simd_arrays_per_engine: 1,
    cu_per_simd_array: 1,
    simd_per_cu: 4,
    max_slots_scratch_cu: 32,
    vendor_id: 0x1002,
    device_id: 0x740f,
    domain: 0,
    drm_render_minor: g.render_minor,
    hive_id: 0n,
    num_sdma_engines: 2,
    num_sdma_xgmi_engines: 0,
    num_sdma_queues_per_engine: 8,
    num_cp_queues: 24,
    fw_version: 0,
    capability: 0,
    sdma_fw_version: 0,
    vram_public: g.large_bar ? 1 : 0,
    vram_size: g.vram_size,
    iolinks: [],
  };
}

/** A task's KFD BOs by user gpu id and address, with their idr handles (one pass over the pdds). */
export type KfdBoIndex = Map<string, { bo: BoContext; idr: number }>;

export const boKey = (userGpuId: number, addr: bigint) => `${userGpuId}:${addr}`;

/** Index the task's KFD BOs by (user gpu id, address); the lowest idr handle wins, as a scan in idr order finds. */
export function kfdBoIndex(w: World, pid: number): KfdBoIndex {
  const index: KfdBoIndex = new Map();
  for (const p of liveTask(w, pid)?.pdds ?? []) {
    const user = contextOf<PddContext>(w, p).user_gpu_id;
    for (const [idr, id] of pddHandles(w, p)) {
      const bo = contextOf<BoContext>(w, id);
      const key = boKey(user, bo.va);
      if (!index.has(key)) index.set(key, { bo, idr });
    }
  }
  return index;
}

/**
 * The restored process's GPU state is active: its kfd_process left the RESTORE → RESUME
 * block (MMU notifiers, userptr and SVM mappings, spec §5.5) or one of its queues runs.
 */
export function gpuActivated(w: World, pid: number): boolean {
  const t = liveTask(w, pid);
  if (!t?.kfd_process) return false;
  if (!inState(w, t.kfd_process, 'alive.mmu.blocked')) return true;
  return Object.values(t.queues).some((q) => inState(w, q, 'active'));
}
