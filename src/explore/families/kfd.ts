/**
 * The `kfd` family: a process with a GPU, two BOs and a queue, CRIU ops by a checkpointing
 * task, and a restore into a fresh process (docs/known-bugs.md).
 *
 * Setup: pid 100 opens /dev/kfd and renderD128, acquires the VM, allocates a mapped GTT
 * ring BO and a VRAM AQL_QUEUE_MEM BO, and creates an AQL queue on the ring; its ptrace
 * parent, pid 99 (CRIU), checkpoints it once (PROCESS_INFO, CHECKPOINT, UNPAUSE, dma-buf
 * fds closed) and opens its own /dev/kfd; pid 200 opens /dev/kfd and renderD128.
 *
 * Actions: CRIU's PROCESS_INFO, CHECKPOINT and UNPAUSE on pid 100's drained fd; pid 200's
 * ACQUIRE_VM (a restorer that already has a VM, spec §5.4 step 3); RESTORE of the setup's
 * checkpoint into pid 200 (once: see restoreOffered); CRIU's RESUME of pid 200; the userptr
 * restore worker.
 *
 * Bounds (src/explore/families/bounds.ts): `gpus` GPUs (the app opens each render node and
 * acquires a VM on it before the checkpoint, the restorer opens each and may acquire each);
 * below `bos`, `queues` and `events`, the app may allocate a GTT BO, create a queue on the
 * ring or create a signal event.
 */
import type { PddContext } from '../../../machines/kfd/pdd.js';
import { checkpointArgs } from '../../criu/amdgpu-calls.js';
import { pddHandles } from '../../world/world.js';
import { encodeField } from '../../ioctls/schema.js';
import { createQueueArgs, QUEUE_RING } from '../../mbt/sample-queue.js';
import { applyInPlace } from '../../world/step.js';
import type { Call, World } from '../../world/types.js';
import type { Action } from '../world-explorer.js';
import { call, gpus, ONE_GPU, type Raw } from './common.js';
import type { FamilyParts } from './index.js';
import { type Bounds, boundOf } from './bounds.js';

const APP = 100;
const CRIU = 99;
const RESTORER = 200;
const GPU = ONE_GPU.gpu_id;

/** Applies setup calls to a scratch world as they are written, so later ones can use outs. */
export class SetupBuilder {
  readonly calls: Call[] = [];
  constructor(readonly world: World) {}
  /** Apply a call and keep it; returns its out (throws if it fails: a family bug). */
  run(name: string, args: Raw, pid?: number, fd?: Call['fd']): Record<string, unknown> {
    const c = call(name, args, pid, fd);
    const r = applyInPlace(this.world, { ...c, args: structuredClone(c.args) });
    if (r.ret !== 0) throw new Error(`family setup: ${name} returned ${r.ret}`);
    this.calls.push(c);
    return r.out;
  }
}

/** The AQL queue the kfd and criu families create on the GTT ring (mapGttRing): the sample queue. */
export const QUEUE_ARGS: Raw = createQueueArgs(GPU);

/** Open the render node of every GPU after the first (fds 5, 6, …), acquiring a VM on each when `acquire`. */
function openOtherGpus(b: SetupBuilder, pid: number, n: number, acquire: boolean): void {
  for (const [i, g] of gpus(n).entries()) {
    if (i === 0) continue;
    const fd = b.run('open', { path: `/dev/dri/renderD${g.render_minor}` }, pid).fd as number;
    if (acquire) b.run('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: fd, gpu_id: g.gpu_id }, pid, 3);
  }
}

/** /dev/kfd on fd 3, the first GPU's render node on fd 4, ACQUIRE_VM of it. */
export function openKfdWithVm(b: SetupBuilder, pid: number): void {
  b.run('open', { path: '/dev/kfd' }, pid);
  b.run('open', { path: `/dev/dri/renderD${ONE_GPU.render_minor}` }, pid);
  b.run('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 4, gpu_id: GPU }, pid, 3);
}

/** A 64 KiB GTT ring BO at QUEUE_RING, mapped on the first GPU (QUEUE_ARGS's ring). */
export function mapGttRing(b: SetupBuilder, pid: number): void {
  const ring = b.run(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    { flags: ['GTT', 'WRITABLE'], gpu_id: GPU, size: 65536, va_addr: QUEUE_RING },
    pid,
    3,
  );
  b.run('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { device_ids: [GPU], handle: ring.handle }, pid, 3);
}

/** The app of the kfd family: VM, a mapped GTT ring, a VRAM AQL BO, an AQL queue. */
function setupApp(b: SetupBuilder, nGpus: number): void {
  openKfdWithVm(b, APP);
  openOtherGpus(b, APP, nGpus, true);
  mapGttRing(b, APP);
  b.run(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    { flags: ['VRAM', 'WRITABLE', 'AQL_QUEUE_MEM'], gpu_id: GPU, size: 16384, va_addr: '0x7f0000000000' },
    APP,
    3,
  );
  b.run('AMDKFD_IOC_CREATE_QUEUE', QUEUE_ARGS, APP, 3);
}

/** CRIU's checkpoint of the app (as the plugin's DUMP_EXT_FILE does, spec §9.4 e–f). */
function checkpointApp(b: SetupBuilder): { info: Raw; ckpt: Raw } {
  const drained = { pid: APP, fd: 3 };
  const info = b.run('AMDKFD_IOC_CRIU_OP', { op: 'PROCESS_INFO' }, CRIU, drained);
  const ckpt = b.run('AMDKFD_IOC_CRIU_OP', checkpointArgs(info), CRIU, drained);
  b.run('AMDKFD_IOC_CRIU_OP', { op: 'UNPAUSE' }, CRIU, drained);
  for (const bo of ckpt.bos as { dmabuf_fd: number }[])
    if (bo.dmabuf_fd !== 0xffffffff) b.run('close', { fd: bo.dmabuf_fd }, CRIU);
  return { info, ckpt };
}

/**
 * RESTORE of a checkpoint into a process whose render fd is 4 (spec §5.4, §9.5 step 3.6);
 * `drmFd(gpu)`: another fd per actual gpu_id.
 */
export function restoreArgs(info: Raw, ckpt: Raw, drmFd: (actualGpuId: number) => number = () => 4): Raw {
  const devices = ckpt.devices as { user_gpu_id: number; actual_gpu_id: number }[];
  return {
    op: 'RESTORE',
    devices: devices.map((d) => ({
      user_gpu_id: d.user_gpu_id,
      actual_gpu_id: d.actual_gpu_id,
      drm_fd: drmFd(d.actual_gpu_id),
      pad: 0,
    })),
    bos: (ckpt.bos as Raw[]).map((bo) =>
      encodeField(undefined, { ...bo, restored_offset: 0n, dmabuf_fd: 0xffffffff, pad: 0 }),
    ),
    priv_data: Buffer.from(ckpt.priv_data as Uint8Array).toString('hex'),
    priv_data_size: encodeField(undefined, info.priv_data_size),
    num_devices: info.num_devices,
    num_bos: info.num_bos,
    num_objects: info.num_objects,
  };
}

/**
 * CRIU issues RESTORE once, in a fresh process, and kills the task when it fails (spec §5.4
 * "Failure semantics"): offered while the restorer holds no eviction and has no queues.
 */
function restoreOffered(w: World): boolean {
  const t = w.tasks[RESTORER];
  if (!t?.alive || Object.keys(t.queues).length > 0) return false;
  return t.pdds.every((p) => (w.objects[p]?.context as PddContext | undefined)?.evicted === 0);
}

/** The app's BOs, queues and events (what the `bos`, `queues` and `events` bounds count). */
function appCounts(w: World): { bos: number; queues: number; events: number } {
  const t = w.tasks[APP];
  if (!t) return { bos: 0, queues: 0, events: 0 };
  const bos = t.pdds.reduce((n, p) => n + pddHandles(w, p).length, 0);
  return { bos, queues: Object.keys(t.queues).length, events: Object.keys(t.events).length };
}

/** The app's creations offered below the bounds: a GTT BO (at its own address), a queue, a signal event. */
function boundedActions(bounds: Bounds): (w: World) => Action[] {
  const max = {
    bos: boundOf('kfd', bounds, 'bos')!,
    queues: boundOf('kfd', bounds, 'queues')!,
    events: boundOf('kfd', bounds, 'events')!,
  };
  return (w) => {
    const n = appCounts(w);
    const out: Action[] = [];
    if (n.bos < max.bos) {
      const va = `0x${(0x7f0010000000 + n.bos * 0x100000).toString(16)}`;
      const args = { flags: ['GTT', 'WRITABLE'], gpu_id: GPU, size: 4096, va_addr: va };
      out.push({ name: 'ALLOC GTT BO', calls: [call('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', args, APP, 3)] });
    }
    if (n.queues < max.queues)
      out.push({ name: 'CREATE_QUEUE', calls: [call('AMDKFD_IOC_CREATE_QUEUE', QUEUE_ARGS, APP, 3)] });
    if (n.events < max.events) {
      const args = { event_type: 'SIGNAL', auto_reset: 1, event_page_offset: 0 };
      out.push({ name: 'CREATE_EVENT', calls: [call('AMDKFD_IOC_CREATE_EVENT', args, APP, 3)] });
    }
    return out;
  };
}

export function kfdFamily(world: World, bounds: Bounds = {}): FamilyParts {
  const nGpus = boundOf('kfd', bounds, 'gpus')!;
  const b = new SetupBuilder(world);
  setupApp(b, nGpus);
  const { info, ckpt } = checkpointApp(b);
  const criuKfd = b.run('open', { path: '/dev/kfd' }, CRIU).fd as number;
  b.run('open', { path: '/dev/kfd' }, RESTORER);
  b.run('open', { path: `/dev/dri/renderD${ONE_GPU.render_minor}` }, RESTORER);
  openOtherGpus(b, RESTORER, nGpus, false);
  // The restorer's render fds: 4 for the first GPU, then 5, 6, … in topology order.
  const drmFd = (gpuId: number) => 4 + Math.max(0, gpuId - GPU);
  const drained = { pid: APP, fd: 3 };
  const acquires = gpus(nGpus).map((g, i): [string, Call] => [
    `restorer ACQUIRE_VM${i === 0 ? '' : ` GPU ${i + 1}`}`,
    call('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: drmFd(g.gpu_id), gpu_id: g.gpu_id }, RESTORER, 3),
  ]);
  const specs: [string, Call][] = [
    ['PROCESS_INFO', call('AMDKFD_IOC_CRIU_OP', { op: 'PROCESS_INFO' }, CRIU, drained)],
    ['CHECKPOINT', call('AMDKFD_IOC_CRIU_OP', checkpointArgs(info), CRIU, drained)],
    ['UNPAUSE', call('AMDKFD_IOC_CRIU_OP', { op: 'UNPAUSE' }, CRIU, drained)],
    ...acquires,
    ['RESTORE', call('AMDKFD_IOC_CRIU_OP', restoreArgs(info, ckpt, drmFd), RESTORER, 3)],
    ['RESUME', call('AMDKFD_IOC_CRIU_OP', { op: 'RESUME', pid: RESTORER }, CRIU, criuKfd)],
    ['userptr worker', call('kfd.restore_userptr_worker', { pid: RESTORER })],
  ];
  const bounded = boundedActions(bounds);
  const actions = (w: World): Action[] => [
    ...specs.filter(([name]) => name !== 'RESTORE' || restoreOffered(w)).map(([name, c]) => ({ name, calls: [c] })),
    ...bounded(w),
  ];
  return { setup: b.calls, actions };
}

/** The kfd family's topology and processes (pid 100 and 200 are ptrace children of CRIU). */
export function kfdTopology(bounds: Bounds = {}) {
  return {
    gpus: gpus(boundOf('kfd', bounds, 'gpus')!),
    processes: [
      { pid: APP, ptrace_parent: CRIU },
      { pid: RESTORER, ptrace_parent: CRIU },
    ],
  };
}
export const KFD_TOPOLOGY = kfdTopology();
