/**
 * Adapter for kfd_pdd (machines/kfd/pdd.ts). The subject is the pdd of GPU B of the
 * application; GPU A's pdd is a helper (its BO is mapped on B to bind B alone).
 *
 *   INIT_VM                  ← ACQUIRE_VM on B; CRIU RESTORE (criu_restore_devices)
 *   BIND                     ← kfd_bind_process_to_device: MAP of a peer's BO to B (alone),
 *                              and first of ALLOC / CREATE_QUEUE on B; RESTORE after INIT_VM
 *   ALLOC_DOORBELLS          ← CREATE_QUEUE on B; RESTORE (criu_restore_devices)
 *   (BIND, VRAM_USAGE_ADD)   ← ALLOC_MEMORY_OF_GPU on B (GTT / VRAM; the handle goes into the
 *                              world's alloc_idr, src/world/idr.ts, not into the pdd's context)
 *   VRAM_USAGE_ADD           ← FREE_MEMORY_OF_GPU (spec §7.3: −size, 0 for GTT)
 *   QUEUE_ADD / QUEUE_REMOVE ← CREATE_QUEUE / DESTROY_QUEUE on B
 *   EVICT_QUEUES             ← CRIU PROCESS_INFO (§5.1); first step of RESTORE (§5.4 step 1)
 *   RESTORE_QUEUES           ← CRIU UNPAUSE (§5.3); the userptr restore worker after RESUME (§5.5)
 *   SET_USER_GPU_ID          ← RESTORE (criu_restore_devices, before fget(drm_fd))
 *   DESTROY                  ← exit
 */
import type { PddContext, PddEvent } from '../../../machines/kfd/pdd.js';
import { pddMachine } from '../../../machines/kfd/pdd.js';
import type { AnyMachineSnapshot } from 'xstate';
import type { Adapter } from '../../../src/mbt/run.js';
import {
  APP,
  BAD_FD,
  DRM_FD,
  ERRNO,
  GPU_A,
  GPU_B,
  KfdWorld,
  MAKE_HANDLE,
  type Mmu,
  resumeAndWorkerMacros,
} from './world.js';

interface Env {
  /** GPU A's VM: none, acquired with ACQUIRE_VM, or created by RESTORE. */
  aVm: 'none' | 'acquired' | 'restored';
  /** A GTT BO on GPU A exists (handle MAKE_HANDLE(GPU_A, 0)). */
  helperBo: boolean;
  /** kfd_process.queues_paused (PROCESS_INFO … UNPAUSE). */
  paused: boolean;
  /** The process's mmu region: RESTORE blocks, RESUME queues the userptr worker. */
  mmu: Mmu;
  /** A BO on GPU B exists (handle MAKE_HANDLE(GPU_B, 0), in the world's alloc_idr). */
  bBo: boolean;
}

const HELPER = MAKE_HANDLE(GPU_A, 0);
const B_BO = MAKE_HANDLE(GPU_B, 0);
const ctx = (s: AnyMachineSnapshot) => s.context as PddContext;

function queueIdOnB(w: KfdWorld): number {
  const pddQueues = (w.world.objects[w.subject!]!.context as PddContext).queues;
  const entry = Object.entries(w.task().queues).find(([, id]) => pddQueues.includes(id));
  if (!entry) throw new Error('no queue on GPU B');
  return Number(entry[0]);
}

export const pddAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_pdd',
  machine: pddMachine,
  input: { pid: APP, gpu_id: GPU_B },
  events: [
    { type: 'INIT_VM', drm_file: 'renderD129', internal_bos: [] },
    { type: 'BIND' },
    { type: 'ALLOC_DOORBELLS' },
    { type: 'EVICT_QUEUES' },
    { type: 'RESTORE_QUEUES' },
    { type: 'VRAM_USAGE_ADD', delta: 65536n },
    { type: 'SET_USER_GPU_ID', user_gpu_id: GPU_B },
    { type: 'QUEUE_ADD', queue: 'q' },
    { type: 'QUEUE_REMOVE', queue: 'q' },
    { type: 'DESTROY' },
  ] satisfies PddEvent[],
  abstract: (c: PddContext) => ({
    evicted: Math.min(c.evicted, 2),
    queues: c.queues.length,
    doorbells: c.proc_doorbells,
    user_gpu_id: c.user_gpu_id,
  }),
  project: (c: PddContext) => ({
    evicted: c.evicted,
    queues: c.queues.length,
    runtime_inuse: c.runtime_inuse,
    proc_doorbells: c.proc_doorbells,
    user_gpu_id: c.user_gpu_id,
  }),
  initialEnv: { aVm: 'none', helperBo: false, paused: false, mmu: 'notifying', bBo: false },
  setup: () => {
    const w = new KfdWorld();
    w.subject = w.pddId(GPU_B);
    return w;
  },
  subject: (w) => w.subject,
  macros: [
    {
      name: 'ACQUIRE_VM A',
      effect: [],
      when: (env) => env.aVm === 'none',
      next: (env) => ({ ...env, aVm: 'acquired' }),
      run: (w) => w.acquireVm(GPU_A),
    },
    {
      name: 'ALLOC_MEMORY_OF_GPU GTT on A',
      effect: [],
      when: (env) => env.aVm !== 'none' && !env.helperBo,
      next: (env) => ({ ...env, helperBo: true }),
      run: (w) => {
        const h = w.alloc(GPU_A, 0x7f0000000000n, 65536n, ['GTT', 'WRITABLE']);
        if (h !== HELPER) throw new Error(`helper BO got handle 0x${h.toString(16)}`);
      },
    },
    { name: 'ACQUIRE_VM B', effect: ['INIT_VM'], run: (w) => w.acquireVm(GPU_B) },
    {
      name: "MAP_MEMORY_TO_GPU A's BO → [B]",
      effect: ['BIND'],
      when: (env) => env.helperBo,
      run: (w) => w.map(HELPER, [GPU_B]),
    },
    {
      name: 'ALLOC_MEMORY_OF_GPU GTT on B',
      effect: ['BIND'],
      when: (env) => !env.bBo,
      next: (env) => ({ ...env, bBo: true }),
      run: (w) => {
        const h = w.alloc(GPU_B, 0x7f0001000000n, 65536n, ['GTT', 'WRITABLE']);
        if (h !== B_BO) throw new Error(`BO on B got handle 0x${h.toString(16)}`);
      },
    },
    {
      name: 'ALLOC_MEMORY_OF_GPU VRAM on B',
      effect: ['BIND', 'VRAM_USAGE_ADD'],
      when: (env) => !env.bBo,
      next: (env) => ({ ...env, bBo: true }),
      run: (w) => {
        const h = w.alloc(GPU_B, 0x7f0001000000n, 65536n, ['VRAM', 'WRITABLE']);
        if (h !== B_BO) throw new Error(`BO on B got handle 0x${h.toString(16)}`);
      },
    },
    {
      name: 'FREE_MEMORY_OF_GPU (B)',
      effect: ['VRAM_USAGE_ADD'],
      when: (env) => env.bBo,
      next: (env) => ({ ...env, bBo: false }),
      run: (w) => w.ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: B_BO }),
    },
    {
      name: 'CREATE_QUEUE on B',
      effect: ['BIND', 'ALLOC_DOORBELLS', 'QUEUE_ADD'],
      // One queue at a time: the sample QUEUE_ADD names a single queue.
      when: (_env, s) => ctx(s).queues.length === 0,
      run: (w) =>
        w.ioctl('AMDKFD_IOC_CREATE_QUEUE', {
          ring_base_address: 0x7f0005000000n,
          ring_size: 65536,
          gpu_id: GPU_B,
          queue_type: 'COMPUTE_AQL',
          queue_percentage: 100,
          queue_priority: 7,
          read_pointer_address: 0x7ffd10000000n,
          write_pointer_address: 0x7ffd10000008n,
        }),
    },
    {
      name: 'DESTROY_QUEUE',
      effect: ['QUEUE_REMOVE'],
      run: (w) => w.ioctl('AMDKFD_IOC_DESTROY_QUEUE', { queue_id: queueIdOnB(w) }),
    },
    {
      name: 'CRIU_OP PROCESS_INFO',
      effect: ['EVICT_QUEUES'],
      next: (env) => ({ ...env, paused: true }),
      run: (w) => w.criu({ op: 'PROCESS_INFO' }),
    },
    {
      name: 'CRIU_OP UNPAUSE',
      effect: ['RESTORE_QUEUES'],
      when: (env) => env.paused,
      next: (env) => ({ ...env, paused: false }),
      run: (w) => w.criu({ op: 'UNPAUSE' }),
    },
    {
      name: 'CRIU_OP RESTORE',
      effect: ['EVICT_QUEUES', 'SET_USER_GPU_ID', 'INIT_VM', 'BIND', 'ALLOC_DOORBELLS'],
      when: (env) => env.aVm === 'none',
      next: (env) => ({ ...env, aVm: 'restored', mmu: 'blocked' }),
      run: (w) => w.restore({}),
    },
    {
      // B's bucket first with a drm_fd the process never opened: user_gpu_id is set,
      // then fget fails → -EINVAL (spec §5.4 step 3), no rollback.
      name: 'CRIU_OP RESTORE, bad drm_fd for B → -EINVAL',
      effect: ['EVICT_QUEUES', 'SET_USER_GPU_ID'],
      when: (_env, s) => s.matches('alive.vm.noVm' as never),
      run: (w) =>
        w.restore(
          {
            devices: [
              { gpu: GPU_B, drm_fd: BAD_FD },
              { gpu: GPU_A, drm_fd: DRM_FD[GPU_A]! },
            ],
          },
          -ERRNO.EINVAL,
        ),
    },
    ...resumeAndWorkerMacros<Env>(['RESTORE_QUEUES']),
    { name: 'exit', effect: ['DESTROY'], run: (w) => w.exit() },
  ],
};
