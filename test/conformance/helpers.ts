/**
 * Conformance-test harness (docs/conformance.md): a world with two GPUs, calls given
 * in their log form (decoded through each call's schema, as the log reader does) and
 * stepped with step(), plus the few multi-call sequences the spec talks about:
 * open /dev/kfd + render nodes + ACQUIRE_VM, checkpoint by the ptrace parent
 * (PROCESS_INFO → CHECKPOINT, spec §4, §5.1, §5.2), restore into a fresh process
 * (RESTORE on its own fd with render-node fds it did not acquire, spec §5.4).
 *
 * The harness never computes an expected value: tests state those from the spec.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import type { EventContext } from '../../machines/kfd/event.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { ProcessContext } from '../../machines/kfd/process.js';
import type { QueueContext } from '../../machines/kfd/queue.js';
import type { SvmRangeContext } from '../../machines/kfd/svm-range.js';
import { decodePrivData, encodePrivData, type PrivData } from '../../src/criu/kfd-priv.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs, encodeField } from '../../src/ioctls/schema.js';
import { ERRNO } from '../../src/uapi/errno.js';
import { GET_GPU_ID, GET_IDR_HANDLE } from '../../src/uapi/index.js';
import { contextOf, inState } from '../../src/world/objects.js';
import { step } from '../../src/world/step.js';
import { parseTopology } from '../../src/world/topology.js';
import type { FdRef, Variants, World } from '../../src/world/types.js';
import { boByHandle, createWorld, pddHandles } from '../../src/world/world.js';

/** Negative errnos, as the kernel returns them. */
export const E = Object.fromEntries(Object.entries(ERRNO).map(([k, v]) => [k, -v])) as unknown as {
  readonly [K in keyof typeof ERRNO]: number;
};

export const GPU_A = 0x1a2b;
export const GPU_B = 0x3c4d;
export const MINOR_A = 128;
export const MINOR_B = 129;
/** The application that is checkpointed. */
export const APP = 100;
/** CRIU: the ptrace parent of APP and of RESTORED. */
export const CRIU = 99;
/** The fresh process a checkpoint is restored into. */
export const RESTORED = 200;
/** A process that is nobody's ptrace parent. */
export const OTHER = 300;
export const PAGE = 4096;
export const KFD_FD = 3;

export type RawGpu = Record<string, unknown>;
export type RawProcess = { pid: number; caps?: string[]; ptrace_parent?: number | null };

export interface HarnessOptions {
  /** Extra topology fields per GPU (index 0 = GPU_A, 1 = GPU_B), or a full GPU list. */
  gpuA?: RawGpu;
  gpuB?: RawGpu;
  gpus?: RawGpu[];
  processes?: RawProcess[];
  variants?: Partial<Variants>;
}

export interface Result {
  ret: number;
  out: Record<string, unknown>;
}

/** CREATE_QUEUE's arguments in log form with minimal valid properties (a ring and its pointers). */
export function createQueueArgs(gpu: number, queueType: string = 'COMPUTE'): Record<string, unknown> {
  return {
    gpu_id: gpu,
    queue_type: queueType,
    queue_percentage: 100,
    queue_priority: 7,
    ring_base_address: '0x7f1000000000',
    ring_size: 4096,
    read_pointer_address: '0x7f2000000000',
    write_pointer_address: '0x7f2000000008',
  };
}

/** A mutable handle on an immutable world: each call replaces `w`. */
export class Harness {
  w: World;

  constructor(opts: HarnessOptions = {}) {
    const gpus = opts.gpus ?? [
      { gpu_id: GPU_A, render_minor: MINOR_A, ...opts.gpuA },
      { gpu_id: GPU_B, render_minor: MINOR_B, ...opts.gpuB },
    ];
    const processes = opts.processes ?? [
      { pid: APP, ptrace_parent: CRIU },
      { pid: RESTORED, ptrace_parent: CRIU },
    ];
    this.w = createWorld(parseTopology({ page_size: PAGE, gpus }, processes), opts.variants);
  }

  /** One call with log-style args (flag-name lists, enum names, 0x strings), decoded by the call's schema. */
  call(pid: number | undefined, name: string, fd: FdRef | string | undefined, raw: object = {}): Result {
    const def = callDef(name);
    if (!def) throw new Error(`no call ${name}`);
    const args = decodeArgs(def.args, raw as Record<string, unknown>, 'args');
    const r = step(this.w, {
      ...(pid === undefined ? {} : { pid }),
      call: name,
      ...(fd === undefined ? {} : { fd: fdRef(fd) }),
      args,
    });
    this.w = r.world;
    return { ret: r.ret, out: r.out };
  }

  /** A call whose args are already decoded values (bigint, Uint8Array…): encoded to the log form first. */
  callValues(pid: number, name: string, fd: FdRef | string, args: Record<string, unknown>): Result {
    const def = callDef(name)!;
    return this.call(pid, name, fd, toRaw(def.args, args));
  }

  ioctl(pid: number, name: string, raw: object = {}, fd: FdRef | string = KFD_FD): Result {
    return this.call(pid, `AMDKFD_IOC_${name}`, fd, raw);
  }

  criu(pid: number, fd: FdRef | string, raw: object): Result {
    return this.call(pid, 'AMDKFD_IOC_CRIU_OP', fd, raw);
  }

  open(pid: number, path: string): Result {
    return this.call(pid, 'open', undefined, { path });
  }

  /** open /dev/kfd (fd 3), renderD128 (fd 4), renderD129 (fd 5); ACQUIRE_VM on the listed GPUs. */
  setupProcess(pid: number, acquire: number[] = [GPU_A, GPU_B]): { kfd: number; drm: Record<number, number> } {
    const kfd = this.must(this.open(pid, '/dev/kfd')).out.fd as number;
    const drm: Record<number, number> = {};
    for (const g of this.w.topology.gpus)
      drm[g.gpu_id] = this.must(this.open(pid, `/dev/dri/renderD${g.render_minor}`)).out.fd as number;
    for (const g of acquire) this.must(this.ioctl(pid, 'ACQUIRE_VM', { drm_fd: drm[g], gpu_id: g }, kfd));
    return { kfd, drm };
  }

  /** ALLOC_MEMORY_OF_GPU that must succeed; returns the handle. */
  alloc(
    pid: number,
    gpu: number,
    flags: string[],
    size: number | bigint,
    va: number | bigint | string,
    extra: Record<string, unknown> = {},
  ): bigint {
    const r = this.must(this.ioctl(pid, 'ALLOC_MEMORY_OF_GPU', { gpu_id: gpu, flags, size, va_addr: va, ...extra }));
    return r.out.handle as bigint;
  }

  map(pid: number, handle: bigint, gpus: number[]): Result {
    return this.ioctl(pid, 'MAP_MEMORY_TO_GPU', { handle, device_ids: gpus });
  }

  /** CREATE_QUEUE with minimal valid properties; returns the result. */
  createQueue(pid: number, gpu: number, queueType: string = 'COMPUTE', extra: object = {}): Result {
    return this.ioctl(pid, 'CREATE_QUEUE', { ...createQueueArgs(gpu, queueType), ...extra });
  }

  processInfo(target: number, by: number = CRIU, fd = KFD_FD): Result {
    return this.criu(by, `${target}:${fd}`, { op: 'PROCESS_INFO' });
  }

  /** CHECKPOINT with the counts of an earlier PROCESS_INFO (spec §5.2). */
  checkpointWith(target: number, info: Result, by: number = CRIU, fd = KFD_FD): Result {
    return this.criu(by, `${target}:${fd}`, {
      op: 'CHECKPOINT',
      devices: [],
      bos: [],
      priv_data: '',
      num_devices: info.out.num_devices,
      num_bos: info.out.num_bos,
      num_objects: info.out.num_objects,
      priv_data_size: info.out.priv_data_size,
    });
  }

  unpause(target: number, by: number = CRIU, fd = KFD_FD): Result {
    return this.criu(by, `${target}:${fd}`, { op: 'UNPAUSE' });
  }

  /** PROCESS_INFO + CHECKPOINT + UNPAUSE by the ptrace parent; all must succeed. */
  checkpoint(target: number, by: number = CRIU, opts: { unpause?: boolean } = {}): Checkpoint {
    const info = this.must(this.processInfo(target, by));
    const c = this.must(this.checkpointWith(target, info, by));
    if (opts.unpause !== false) this.must(this.unpause(target, by));
    return {
      devices: c.out.devices as Bucket[],
      bos: c.out.bos as Bucket[],
      priv_data: c.out.priv_data as Uint8Array,
      num_devices: info.out.num_devices as number,
      num_bos: info.out.num_bos as number,
      num_objects: info.out.num_objects as number,
      priv_data_size: info.out.priv_data_size as bigint,
    };
  }

  /**
   * Open /dev/kfd and the render nodes in a fresh process (no ACQUIRE_VM) and issue
   * RESTORE on its own fd. `deviceMap` maps a checkpointed user gpu_id to the actual
   * gpu_id to restore it on (identity by default); `edit` may change the args.
   */
  restore(
    pid: number,
    ck: Checkpoint,
    opts: {
      deviceMap?: Record<number, number>;
      edit?: (a: Record<string, unknown>) => void;
      open?: boolean;
    } = {},
  ): Result {
    const fds = opts.open === false ? { kfd: KFD_FD, drm: { [GPU_A]: 4, [GPU_B]: 5 } } : this.setupProcess(pid, []);
    const devices = ck.devices.map((d) => {
      const actual = opts.deviceMap?.[d.user_gpu_id as number] ?? (d.user_gpu_id as number);
      return { user_gpu_id: d.user_gpu_id, actual_gpu_id: actual, drm_fd: fds.drm[actual], pad: 0 };
    });
    const args: Record<string, unknown> = {
      op: 'RESTORE',
      devices,
      bos: ck.bos.map((b) => ({ ...b })),
      priv_data: ck.priv_data,
      priv_data_size: ck.priv_data_size,
      num_devices: ck.num_devices,
      num_bos: ck.num_bos,
      num_objects: ck.num_objects,
    };
    opts.edit?.(args);
    return this.call(pid, 'AMDKFD_IOC_CRIU_OP', fds.kfd, toRaw(callDef('AMDKFD_IOC_CRIU_OP')!.args, args));
  }

  resume(target: number, by: number = CRIU): Result {
    const kfd = this.must(this.open(by, '/dev/kfd')).out.fd as number;
    return this.criu(by, kfd, { op: 'RESUME', pid: target });
  }

  userptrWorker(pid: number): Result {
    return this.call(undefined, 'kfd.restore_userptr_worker', undefined, { pid });
  }

  must(r: Result): Result {
    if (r.ret !== 0) throw new Error(`expected success, got ${r.ret} (${JSON.stringify(r.out, jsonBig)})`);
    return r;
  }

  // ---- state accessors -------------------------------------------------------

  task(pid: number) {
    const t = this.w.tasks[pid];
    if (!t) throw new Error(`no task ${pid}`);
    return t;
  }

  proc(pid: number): ProcessContext {
    return contextOf<ProcessContext>(this.w, this.task(pid).kfd_process!);
  }

  procId(pid: number): string {
    return this.task(pid).kfd_process!;
  }

  /** The pdd of an actual gpu_id. */
  pddId(pid: number, actualGpu: number): string {
    const id = this.task(pid).pdds.find((p) => contextOf<PddContext>(this.w, p).gpu_id === actualGpu);
    if (!id) throw new Error(`no pdd for ${actualGpu}`);
    return id;
  }

  pdd(pid: number, actualGpu: number): PddContext {
    return contextOf<PddContext>(this.w, this.pddId(pid, actualGpu));
  }

  /** The BO behind a user handle (user gpu_id, idr), or undefined. */
  boId(pid: number, handle: bigint): string | undefined {
    const pddId = this.task(pid).pdds.find((p) => contextOf<PddContext>(this.w, p).user_gpu_id === GET_GPU_ID(handle));
    return pddId ? boByHandle(this.w, pddId, GET_IDR_HANDLE(handle)) : undefined;
  }

  bo(id: string): BoContext {
    return contextOf<BoContext>(this.w, id);
  }

  /** User BOs of a pdd (alloc_idr), idr → BO context. */
  userBos(pid: number, actualGpu: number): Record<number, BoContext> {
    const handles = pddHandles(this.w, this.pddId(pid, actualGpu));
    return Object.fromEntries(handles.map(([k, v]) => [k, this.bo(v)]));
  }

  queueId(pid: number, qid: number): string {
    const id = this.task(pid).queues[qid];
    if (!id) throw new Error(`no queue ${qid}`);
    return id;
  }

  queue(pid: number, qid: number): QueueContext {
    return contextOf<QueueContext>(this.w, this.queueId(pid, qid));
  }

  queueActive(pid: number, qid: number): boolean {
    return inState(this.w, this.queueId(pid, qid), 'active');
  }

  queueEvicted(pid: number, qid: number): boolean {
    return inState(this.w, this.queueId(pid, qid), 'evicted');
  }

  event(pid: number, id: number): EventContext | undefined {
    const o = this.task(pid).events[id];
    return o ? contextOf<EventContext>(this.w, o) : undefined;
  }

  svmRanges(pid: number): SvmRangeContext[] {
    return this.task(pid).svm_ranges.map((id) => contextOf<SvmRangeContext>(this.w, id));
  }

  inState(id: string, path: string): boolean {
    return inState(this.w, id, path);
  }
}

export interface Bucket {
  [k: string]: unknown;
}

export interface Checkpoint {
  devices: Bucket[];
  bos: Bucket[];
  priv_data: Uint8Array;
  num_devices: number;
  num_bos: number;
  num_objects: number;
  priv_data_size: bigint;
}

/** Decode a checkpoint's priv_data (spec §3) so a test can alter one field. */
export function decodeCk(ck: Checkpoint, max: 16 | 64 = 64): PrivData {
  return decodePrivData(
    ck.priv_data,
    { num_devices: ck.num_devices, num_bos: ck.num_bos, num_objects: ck.num_objects },
    max,
  );
}

/** A copy of the checkpoint with priv_data re-encoded from `d` (sizes follow). */
export function withPriv(ck: Checkpoint, d: PrivData, max: 16 | 64 = 64): Checkpoint {
  const priv = encodePrivData(d, max);
  return {
    ...ck,
    bos: ck.bos.map((b) => ({ ...b })),
    priv_data: priv,
    num_bos: d.bos.length,
    num_objects: d.objects.length,
    priv_data_size: BigInt(priv.length),
  };
}

function fdRef(fd: FdRef | string): FdRef {
  if (typeof fd !== 'string') return fd;
  const m = /^([0-9]+):([0-9]+)$/.exec(fd);
  if (!m) throw new Error(`bad fd ${fd}`);
  return { pid: Number(m[1]), fd: Number(m[2]) };
}

/** Decoded values → the log form the schema decodes (bigint → number / 0x string, bytes → hex). */
export function toRaw(schema: Record<string, unknown>, args: Record<string, unknown>): Record<string, unknown> {
  return encodeField({ t: 'struct', fields: schema as never }, args) as Record<string, unknown>;
}

function jsonBig(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `<${v.length} bytes>` : v;
}

export const MiB = 1 << 20;

export interface AppParts {
  vram?: boolean;
  gtt?: boolean;
  userptr?: boolean;
  doorbell?: boolean;
  mmio?: boolean;
  queue?: boolean;
  events?: boolean;
  svm?: boolean;
}

export interface AppHandles {
  vram?: bigint;
  gtt?: bigint;
  userptr?: bigint;
  doorbell?: bigint;
  mmio?: bigint;
  eventPage?: bigint;
  queue?: number;
  signalEvent?: number;
  memoryEvent?: number;
}

export const VA = {
  vram: 0x7f0000000000n,
  gtt: 0x7f0001000000n,
  userptr: 0x7f0002000000n,
  userptrCpu: 0x7ffd00000000n,
  doorbell: 0x7f0003000000n,
  mmio: 0x7f0004000000n,
  eventPage: 0x7f0006000000n,
  svm: 0x7e0000000000n,
};

/**
 * A ROCm-like application in APP (both VMs acquired) with the pieces asked for:
 * VRAM on A mapped on A and B, GTT on A, USERPTR on B, DOORBELL on A, MMIO on B,
 * a COMPUTE queue on A, a signal event on a user event page plus a MEMORY event,
 * an SVM range with PREFERRED_LOC = A and ACCESS = A.
 */
export function buildApp(h: Harness, parts: AppParts, pid = APP): AppHandles {
  h.setupProcess(pid);
  const r: AppHandles = {};
  if (parts.vram) {
    r.vram = h.alloc(pid, GPU_A, ['VRAM', 'WRITABLE'], 2 * MiB, VA.vram);
    h.must(h.map(pid, r.vram, [GPU_A, GPU_B]));
  }
  if (parts.gtt) {
    r.gtt = h.alloc(pid, GPU_A, ['GTT', 'WRITABLE'], 64 * 1024, VA.gtt);
    h.must(h.map(pid, r.gtt, [GPU_A]));
  }
  if (parts.userptr) {
    r.userptr = h.alloc(pid, GPU_B, ['USERPTR', 'WRITABLE'], MiB, VA.userptr, {
      mmap_offset: VA.userptrCpu,
    });
    h.must(h.map(pid, r.userptr, [GPU_B]));
  }
  if (parts.doorbell) {
    r.doorbell = h.alloc(pid, GPU_A, ['DOORBELL', 'WRITABLE'], 8192, VA.doorbell);
    h.must(h.map(pid, r.doorbell, [GPU_A]));
  }
  if (parts.mmio) {
    r.mmio = h.alloc(pid, GPU_B, ['MMIO_REMAP', 'WRITABLE'], PAGE, VA.mmio);
    h.must(h.map(pid, r.mmio, [GPU_B]));
  }
  if (parts.queue) r.queue = h.must(h.createQueue(pid, GPU_A, 'COMPUTE')).out.queue_id as number;
  if (parts.events) {
    r.eventPage = h.alloc(pid, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA.eventPage);
    h.must(h.map(pid, r.eventPage, [GPU_A]));
    r.signalEvent = h.must(
      h.ioctl(pid, 'CREATE_EVENT', { event_page_offset: r.eventPage, event_type: 'SIGNAL', auto_reset: 1 }),
    ).out.event_id as number;
    r.memoryEvent = h.must(h.ioctl(pid, 'CREATE_EVENT', { event_type: 'MEMORY', auto_reset: 1 })).out
      .event_id as number;
  }
  if (parts.svm) svmRangeOnA(h, pid);
  return r;
}

/** An SVM range of two pages at VA.svm, preferred on and accessed by GPU A (SVM SET_ATTR). */
export function svmRangeOnA(h: Harness, pid: number): void {
  h.must(
    h.ioctl(pid, 'SVM', {
      start_addr: VA.svm,
      size: 2 * PAGE,
      op: 'SET_ATTR',
      attrs: [
        { type: 'PREFERRED_LOC', value: GPU_A },
        { type: 'ACCESS', value: GPU_A },
      ],
    }),
  );
}
