/**
 * Shared world set-up for the model-based suites: a topology with two GPUs, an
 * application process (pid 100) whose ptrace parent is CRIU (pid 99), and a small
 * driver that issues calls through `step()` and checks their return values.
 *
 * Conventions (docs/model-based-testing.md): the application opens /dev/kfd (fd 3) and
 * both render nodes (fd 4 → GPU A, fd 5 → GPU B) before any path starts; it acquires no
 * VM, so the same process can either build state with ACQUIRE_VM or be the target of a
 * CRIU RESTORE (which needs pdds without VMs, spec §5.4, §6.2).
 */
import type { EventPattern, Macro } from '../../../src/mbt/run.js';
import { sampleRestoreArgs } from '../../../src/mbt/sample-restore.js';
import type { ObjectPriv, BoPriv } from '../../../src/criu/kfd-priv.js';
import { callDef } from '../../../src/ioctls/registry.js';
import { decodeArgs } from '../../../src/ioctls/schema.js';
import { ERRNO } from '../../../src/uapi/errno.js';
import { MAKE_HANDLE } from '../../../src/uapi/index.js';
import { step } from '../../../src/world/step.js';
import { parseTopology } from '../../../src/world/topology.js';
import type { FdRef, Task, World } from '../../../src/world/types.js';
import { boByHandle, createWorld } from '../../../src/world/world.js';

export const GPU_A = 0xa3e1;
export const GPU_B = 0x5c17;
export const MINOR: Record<number, number> = { [GPU_A]: 128, [GPU_B]: 129 };
export const APP = 100;
export const CRIU = 99;
/** The application's fds after set-up. */
export const KFD_FD = 3;
export const DRM_FD: Record<number, number> = { [GPU_A]: 4, [GPU_B]: 5 };
/** An fd number the application never opened. */
export const BAD_FD = 42;
export const PAGE = 4096n;

export { ERRNO, MAKE_HANDLE };

/** One issued call and its result, kept for failure messages. */
export interface Issued {
  pid: number | undefined;
  call: string;
  ret: number;
}

export class KfdWorld {
  world: World;
  /** World object id of the object under test, once it exists. */
  subject: string | undefined;
  readonly log: Issued[] = [];

  constructor() {
    const topology = parseTopology(
      {
        page_size: 4096,
        gpus: [
          { gpu_id: GPU_A, render_minor: MINOR[GPU_A] },
          { gpu_id: GPU_B, render_minor: MINOR[GPU_B] },
        ],
      },
      [{ pid: APP, ptrace_parent: CRIU }],
    );
    this.world = createWorld(topology);
    expectFd(this.call(APP, 'open', { path: '/dev/kfd' }), KFD_FD);
    expectFd(this.call(APP, 'open', { path: `/dev/dri/renderD${MINOR[GPU_A]}` }), DRM_FD[GPU_A]!);
    expectFd(this.call(APP, 'open', { path: `/dev/dri/renderD${MINOR[GPU_B]}` }), DRM_FD[GPU_B]!);
  }

  /**
   * Issue a call with log-style arguments (decoded by the call's schema) and require
   * `expect` as the return value (0 unless the macro models a refusal).
   */
  call(
    pid: number | undefined,
    name: string,
    args: Record<string, unknown>,
    opts: { fd?: FdRef; expect?: number } = {},
  ): Record<string, unknown> {
    const def = callDef(name);
    if (!def) throw new Error(`unknown call ${name}`);
    const decoded = decodeArgs(def.args, args, `${name}.args`);
    const r = step(this.world, {
      ...(pid === undefined ? {} : { pid }),
      call: name,
      ...(opts.fd === undefined ? {} : { fd: opts.fd }),
      args: decoded,
    });
    this.world = r.world;
    this.log.push({ pid, call: name, ret: r.ret });
    const expect = opts.expect ?? 0;
    if (r.ret !== expect)
      throw new Error(
        `${name} returned ${r.ret}, expected ${expect}; calls so far: ${this.log
          .map((c) => `${c.call}=${c.ret}`)
          .join(', ')}`,
      );
    return r.out;
  }

  /** An ioctl of the application on its own /dev/kfd fd. */
  ioctl(name: string, args: Record<string, unknown>, expect = 0): Record<string, unknown> {
    return this.call(APP, name, args, { fd: KFD_FD, expect });
  }

  /** A CRIU_OP issued by CRIU (the ptrace parent) on the application's drained /dev/kfd fd (spec §4, §9.4). */
  criu(args: Record<string, unknown>, expect = 0): Record<string, unknown> {
    return this.call(CRIU, 'AMDKFD_IOC_CRIU_OP', args, { fd: { pid: APP, fd: KFD_FD }, expect });
  }

  task(pid = APP): Task {
    const t = this.world.tasks[pid];
    if (!t) throw new Error(`no task ${pid}`);
    return t;
  }

  /** pdd object id of a GPU in the application (p->pdds[] order = topology order). */
  pddId(gpu: number): string {
    return this.task().pdds[gpu === GPU_A ? 0 : 1]!;
  }

  acquireVm(gpu: number): void {
    this.ioctl('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: DRM_FD[gpu], gpu_id: gpu });
  }

  /** ALLOC_MEMORY_OF_GPU; returns the handle. */
  alloc(gpu: number, va: bigint, size: bigint, flags: string[], mmap_offset = 0n, expect = 0): bigint {
    const out = this.ioctl(
      'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
      { va_addr: va, size, gpu_id: gpu, flags, mmap_offset },
      expect,
    );
    return out.handle as bigint;
  }

  /** The kfd.bo object behind a handle. */
  boId(handle: bigint): string {
    const gpu = Number(handle >> 32n);
    const bo = boByHandle(this.world, this.pddId(gpu), Number(handle & 0xffffffffn));
    if (!bo) throw new Error(`no BO at handle 0x${handle.toString(16)}`);
    return bo;
  }

  map(handle: bigint, devices: number[], expect = 0): void {
    this.ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle, device_ids: devices }, expect);
  }

  unmap(handle: bigint, devices: number[], expect = 0): void {
    this.ioctl('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', { handle, device_ids: devices }, expect);
  }

  /**
   * AMDKFD_IOC_CRIU_OP RESTORE issued by the application on its own fd (spec §5.4) with
   * identity gpu ids, devices in the given order, and a priv_data blob built from `bos`
   * and `objects`.
   */
  restore(
    opts: {
      devices?: { gpu: number; drm_fd: number }[];
      bos?: { bucket: Record<string, unknown>; priv: BoPriv }[];
      objects?: ObjectPriv[];
      version?: number;
    },
    expect = 0,
  ): Record<string, unknown> {
    const devices = opts.devices ?? [
      { gpu: GPU_A, drm_fd: DRM_FD[GPU_A]! },
      { gpu: GPU_B, drm_fd: DRM_FD[GPU_B]! },
    ];
    const args = sampleRestoreArgs({
      devices,
      bos: opts.bos ?? [],
      objects: opts.objects ?? [],
      version: opts.version,
    });
    return this.ioctl('AMDKFD_IOC_CRIU_OP', args, expect);
  }

  /** RESUME issued by CRIU (any process) for the application (spec §5.5). */
  resume(expect = 0): void {
    // CRIU opens a /dev/kfd of its own for RESUME.
    const crius = this.world.tasks[CRIU];
    let fd = crius?.alive
      ? Object.entries(crius.fds).find(([, f]) => this.world.files[f]?.kind === 'kfd')?.[0]
      : undefined;
    if (fd === undefined) fd = String(this.call(CRIU, 'open', { path: '/dev/kfd' }).fd);
    this.call(CRIU, 'AMDKFD_IOC_CRIU_OP', { op: 'RESUME', pid: APP }, { fd: Number(fd), expect });
  }

  /** The userptr restore worker queued by RESUME; returns whether it had work. */
  userptrWorker(): boolean {
    return this.call(undefined, 'kfd.restore_userptr_worker', { pid: APP }).ran === 1;
  }

  /** The userptr restore worker, which RESUME must have queued work for. */
  queuedUserptrWorker(): void {
    if (!this.userptrWorker()) throw new Error('the userptr restore worker had no work queued');
  }

  exit(pid = APP): void {
    this.call(pid, 'exit', {});
  }
}

/** The process's mmu region in an adapter's environment: RESTORE blocks it, RESUME queues the userptr worker. */
export type Mmu = 'notifying' | 'blocked' | 'pending';

/** CRIU_OP RESUME after a RESTORE, with no event of the subject: the mmu region goes from blocked to pending. */
export function resumeMacro<Env extends { mmu: Mmu }>(): Macro<KfdWorld, Env> {
  return {
    name: 'CRIU_OP RESUME',
    effect: [],
    when: (env) => env.mmu === 'blocked',
    next: (env) => ({ ...env, mmu: 'pending' }),
    run: (w) => w.resume(),
  };
}

/** RESUME, then the userptr restore worker it queued, which causes `effect` on the subject (pending → notifying). */
export function resumeAndWorkerMacros<Env extends { mmu: Mmu }>(effect: EventPattern[]): Macro<KfdWorld, Env>[] {
  return [
    resumeMacro(),
    {
      name: 'kfd.restore_userptr_worker',
      effect,
      when: (env) => env.mmu === 'pending',
      next: (env) => ({ ...env, mmu: 'notifying' }),
      run: (w) => w.queuedUserptrWorker(),
    },
  ];
}

function expectFd(out: Record<string, unknown>, fd: number): void {
  if (out.fd !== fd) throw new Error(`open returned fd ${String(out.fd)}, expected ${fd}`);
}

/** An SVM range record for a RESTORE priv_data blob (spec §5.2.3: 4 common attrs + one access attr per pdd). */
export function svmPriv(startPage: bigint, npages: bigint): ObjectPriv {
  return {
    object_type: 2,
    start_addr: startPage,
    size: npages,
    attrs: [
      { type: 0, value: 0xffffffff }, // PREFERRED_LOC UNDEFINED
      { type: 1, value: 0xffffffff }, // PREFETCH_LOC UNDEFINED
      { type: 5, value: 0 }, // SET_FLAGS
      { type: 7, value: 9 }, // GRANULARITY
      { type: 4, value: GPU_A }, // NO_ACCESS
      { type: 4, value: GPU_B },
    ],
  };
}
