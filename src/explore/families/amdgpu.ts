/**
 * The `amdgpu` family: render-node BOs of a KFD process, checkpointed and restored with the
 * render-node CRIU design the `amdgpu-criu` variant names (upstream 6.18 or the 2025
 * CRIU-ioctl v3 proposal, spec §8; src/criu/amdgpu-upstream.ts, amdgpu-criu-ioctl-v3.ts).
 *
 * Setup: pid 100 (ptrace child of CRIU, pid 99) opens /dev/kfd and renderD128, makes the
 * render node's VM its compute VM (ACQUIRE_VM) and allocates and maps a KFD GTT BO.
 *
 * Actions of pid 100: GEM_CREATE a GTT BO; GEM_VA MAP handle 1; GEM_CLOSE handle 1; import
 * the KFD BO into the render node (EXPORT_DMABUF, PRIME_FD_TO_HANDLE, close the dma-buf fd).
 * And, while pid 200 does not exist: checkpoint pid 100 and restore it into pid 200 with the
 * variant's design, every ioctl of both as its own call (the design computes them on a copy
 * of the world; the explorer applies them).
 *
 * Bounds (src/explore/families/bounds.ts): GEM_CREATE is offered while the render file has
 * fewer than `bos` handles (no bound by default), and `mappings` GEM_VA MAPs of handle 1,
 * each at its own address (1 by default).
 */
import { dumpV3, restoreV3 } from '../../criu/amdgpu-criu-ioctl-v3.js';
import type { IssuedCall } from '../../criu/amdgpu-calls.js';
import { dumpUpstream, restoreUpstream } from '../../criu/amdgpu-upstream.js';
import { lowestFreeFd } from '../../world/fds.js';
import type { Call, World } from '../../world/types.js';
import type { Action } from '../world-explorer.js';
import { call, ONE_GPU } from './common.js';
import type { FamilyParts } from './index.js';
import { SetupBuilder } from './kfd.js';
import { type Bounds, boundOf } from './bounds.js';

const APP = 100;
const CRIU = 99;
const RESTORED = 200;
const GPU = ONE_GPU.gpu_id;

/** The lowest free fd of a task (what the next open or export returns). */
function nextFd(w: World, pid: number): number {
  const task = w.tasks[pid];
  return task ? lowestFreeFd(task) : 0;
}

const asCall = (c: IssuedCall): Call => call(c.call, c.args, c.pid, c.fd);

/** Checkpoint pid 100 and restore it into pid 200 with the world's design: the calls, in order. */
function checkpointRestore(w: World): Call[] {
  const o = { criu: CRIU, app: APP, kfdFd: 3, drmFds: [{ gpu_id: GPU, fd: 4 }] };
  if (w.variants['amdgpu-criu'] === 'criu-ioctl-v3') {
    const d = dumpV3(w, o);
    if (!d.dump) return d.calls.map(asCall);
    return [...d.calls, ...restoreV3(d.world, d.dump, { pid: RESTORED }).calls].map(asCall);
  }
  const d = dumpUpstream(w, o);
  if (!d.dump) return d.calls.map(asCall);
  return [...d.calls, ...restoreUpstream(d.world, d.dump, { pid: RESTORED }).calls].map(asCall);
}

/** GEM handles of the app's render file (fd 4), what the `bos` bound counts. */
function renderHandles(w: World): number {
  const file = w.tasks[APP]?.fds[4];
  return file ? Object.keys(w.drm?.[file]?.object_idr ?? {}).length : 0;
}

/** GEM_VA MAP of handle 1, the i-th at its own megabyte above 0x200000000. */
function mapHandle1(i: number): [string, Call] {
  const va = `0x${(0x200000000 + i * 0x100000).toString(16)}`;
  const args = {
    handle: 1,
    operation: 'MAP',
    flags: ['PAGE_READABLE'],
    va_address: va,
    offset_in_bo: 0,
    map_size: 4096,
  };
  return [`GEM_VA MAP 1${i === 0 ? '' : ` at ${va}`}`, call('DRM_IOCTL_AMDGPU_GEM_VA', args, APP, 4)];
}

export function amdgpuFamily(world: World, bounds: Bounds = {}): FamilyParts {
  const maxBos = boundOf('amdgpu', bounds, 'bos');
  const mappings = boundOf('amdgpu', bounds, 'mappings')!;
  const b = new SetupBuilder(world);
  b.run('open', { path: '/dev/kfd' }, APP);
  b.run('open', { path: `/dev/dri/renderD${ONE_GPU.render_minor}` }, APP);
  b.run('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 4, gpu_id: GPU }, APP, 3);
  const kfdBo = b.run(
    'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
    { flags: ['GTT', 'WRITABLE', 'EXECUTABLE'], gpu_id: GPU, size: 8192, va_addr: '0x7f0000200000' },
    APP,
    3,
  ).handle;
  b.run('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { device_ids: [GPU], handle: kfdBo }, APP, 3);
  const create: [string, Call] = [
    'GEM_CREATE',
    call('DRM_IOCTL_AMDGPU_GEM_CREATE', { bo_size: 4096, domains: ['GTT'] }, APP, 4),
  ];
  const fixed: [string, Call][] = [
    ...Array.from({ length: mappings }, (_, i) => mapHandle1(i)),
    ['GEM_CLOSE 1', call('DRM_IOCTL_GEM_CLOSE', { handle: 1 }, APP, 4)],
  ];
  const actions = (w: World): Action[] => {
    const offered = maxBos === null || renderHandles(w) < maxBos ? [create, ...fixed] : fixed;
    const out: Action[] = offered.map(([name, c]) => ({ name, calls: [c] }));
    const fd = nextFd(w, APP);
    out.push({
      name: 'import the KFD BO',
      calls: [
        call('AMDKFD_IOC_EXPORT_DMABUF', { handle: kfdBo, flags: 0 }, APP, 3),
        call('DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd }, APP, 4),
        call('close', { fd }, APP),
      ],
    });
    if (!w.tasks[RESTORED]) out.push({ name: 'checkpoint, restore into 200', calls: checkpointRestore(w) });
    return out;
  };
  return { setup: b.calls, actions };
}

export const AMDGPU_TOPOLOGY = {
  gpus: [ONE_GPU],
  processes: [
    { pid: APP, ptrace_parent: CRIU },
    { pid: RESTORED, ptrace_parent: CRIU },
  ],
};
