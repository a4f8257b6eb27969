/**
 * Adapter for kfd_process (machines/kfd/process.ts): which calls cause which process events.
 *
 *   SET_XNACK                ← SET_XNACK_MODE 0; also the first step of CRIU RESTORE (criu_restore_process)
 *   ALLOC_SIGNAL_PAGE        ← CREATE_EVENT SIGNAL without an event page (kernel signal page on demand)
 *   SET_SIGNAL_PAGE          ← CREATE_EVENT with event_page_offset = a GTT BO handle (kfd_kmap_event_page)
 *   PAUSE                    ← CRIU_OP PROCESS_INFO (spec §5.1; again while paused: §6.2)
 *   UNPAUSE                  ← CRIU_OP UNPAUSE (§5.3)
 *   BLOCK_MMU_NOTIFICATIONS  ← CRIU_OP RESTORE, in criu_restore_bos (§5.4 step 4)
 *   SAVE_SVM_METADATA        ← the same RESTORE, per SVM_RANGE object (§5.4 step 5)
 *   FREE_SVM_METADATA        ← CRIU_OP RESUME {pid}, in kfd_criu_resume_svm, whatever follows (§5.5 step 3)
 *   CRIU_RESUME              ← the same RESUME: unblocks when a RESTORE is pending, else only
 *                              counts evicted_bos before failing with -EINVAL (§5.5 step 4)
 *   USERPTR_RESTORE_WORKER   ← kfd.restore_userptr_worker after RESUME (§5.5 step 4)
 *   EXIT                     ← exit
 */
import type { ProcessContext, ProcessEvent } from '../../../machines/kfd/process.js';
import { processMachine } from '../../../machines/kfd/process.js';
import type { Adapter } from '../../../src/mbt/run.js';
import { APP, ERRNO, GPU_A, GPU_B, KfdWorld, MAKE_HANDLE, svmPriv } from './world.js';

interface Env {
  /** VMs of the application: none yet, acquired with ACQUIRE_VM, or created by RESTORE. */
  vms: 'none' | 'acquired' | 'restored';
  /** The GTT BO used as event page exists (handle MAKE_HANDLE(GPU_A, 0)). */
  eventPageBo: boolean;
}

const EVENT_PAGE_HANDLE = MAKE_HANDLE(GPU_A, 0);
const SVM_START = 0x7e0000000n; // page number of 0x7e0000000000
const SVM_PAGES = 16n;
const SVM_RANGE = svmPriv(SVM_START, SVM_PAGES) as {
  start_addr: bigint;
  size: bigint;
  attrs: { type: number; value: number }[];
};

export const processAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_process',
  machine: processMachine,
  input: { pid: APP, xnack_enabled: false },
  events: [
    { type: 'SET_XNACK', enabled: false },
    { type: 'SET_SIGNAL_PAGE', handle: EVENT_PAGE_HANDLE },
    { type: 'ALLOC_SIGNAL_PAGE' },
    { type: 'PAUSE' },
    { type: 'UNPAUSE' },
    { type: 'BLOCK_MMU_NOTIFICATIONS' },
    {
      type: 'SAVE_SVM_METADATA',
      range: { start: SVM_RANGE.start_addr, npages: SVM_RANGE.size, attrs: SVM_RANGE.attrs },
    },
    { type: 'FREE_SVM_METADATA' },
    { type: 'CRIU_RESUME' },
    { type: 'USERPTR_RESTORE_WORKER' },
    { type: 'EXIT' },
  ] satisfies ProcessEvent[],
  abstract: (c: ProcessContext) => ({
    xnack: c.xnack_enabled,
    signal_page: c.signal_page,
    user_signal_page: c.signal_handle !== 0n,
    svm_metadata: Math.min(c.criu_svm_metadata.length, 1),
    evicted_bos: Math.min(c.evicted_bos, 1),
  }),
  project: (c: ProcessContext) => ({
    xnack_enabled: c.xnack_enabled,
    queues_paused: c.queues_paused,
    block_mmu_notifications: c.block_mmu_notifications,
    evicted_bos: c.evicted_bos,
    signal_page: c.signal_page,
    signal_handle: c.signal_handle,
    criu_svm_metadata: c.criu_svm_metadata,
  }),
  initialEnv: { vms: 'none', eventPageBo: false },
  setup: () => {
    const w = new KfdWorld();
    w.subject = w.task().kfd_process ?? undefined;
    return w;
  },
  subject: (w) => w.subject,
  macros: [
    {
      name: 'ACQUIRE_VM A, B',
      effect: [],
      when: (env) => env.vms === 'none',
      next: (env) => ({ ...env, vms: 'acquired' }),
      run: (w) => {
        w.acquireVm(GPU_A);
        w.acquireVm(GPU_B);
      },
    },
    {
      name: 'ALLOC_MEMORY_OF_GPU GTT on A (event page)',
      effect: [],
      when: (env) => env.vms !== 'none' && !env.eventPageBo,
      next: (env) => ({ ...env, eventPageBo: true }),
      run: (w) => {
        const h = w.alloc(GPU_A, 0x7f0000000000n, 32768n, ['GTT', 'WRITABLE']);
        if (h !== EVENT_PAGE_HANDLE) throw new Error(`event page BO got handle 0x${h.toString(16)}`);
      },
    },
    {
      name: 'SET_XNACK_MODE 0',
      effect: ['SET_XNACK'],
      run: (w) => w.ioctl('AMDKFD_IOC_SET_XNACK_MODE', { xnack_enabled: 0 }),
    },
    {
      name: 'CREATE_EVENT SIGNAL',
      effect: ['ALLOC_SIGNAL_PAGE'],
      run: (w) => w.ioctl('AMDKFD_IOC_CREATE_EVENT', { event_type: 'SIGNAL', auto_reset: 1 }),
    },
    {
      name: 'CREATE_EVENT SIGNAL on the event page BO',
      effect: ['SET_SIGNAL_PAGE'],
      when: (env) => env.eventPageBo,
      run: (w) =>
        w.ioctl('AMDKFD_IOC_CREATE_EVENT', {
          event_page_offset: EVENT_PAGE_HANDLE,
          event_type: 'SIGNAL',
          auto_reset: 1,
        }),
    },
    { name: 'CRIU_OP PROCESS_INFO', effect: ['PAUSE'], run: (w) => w.criu({ op: 'PROCESS_INFO' }) },
    { name: 'CRIU_OP UNPAUSE', effect: ['UNPAUSE'], run: (w) => w.criu({ op: 'UNPAUSE' }) },
    {
      name: 'CRIU_OP RESTORE',
      effect: ['SET_XNACK', 'BLOCK_MMU_NOTIFICATIONS'],
      when: (env) => env.vms === 'none',
      next: (env) => ({ ...env, vms: 'restored' }),
      run: (w) => w.restore({}),
    },
    {
      name: 'CRIU_OP RESTORE (one SVM range)',
      effect: ['SET_XNACK', 'BLOCK_MMU_NOTIFICATIONS', 'SAVE_SVM_METADATA'],
      when: (env) => env.vms === 'none',
      next: (env) => ({ ...env, vms: 'restored' }),
      run: (w) => w.restore({ objects: [SVM_RANGE as never] }),
    },
    {
      // Spec §6.2: a process whose pdds have VMs is refused in criu_restore_devices
      // (-EINVAL); criu_restore_process has already set xnack_enabled by then.
      name: 'CRIU_OP RESTORE in a process with VMs → -EINVAL',
      effect: ['SET_XNACK'],
      when: (env) => env.vms !== 'none',
      run: (w) => w.restore({}, -ERRNO.EINVAL),
    },
    {
      // kfd_criu_resume_svm replays and frees the saved ranges, then
      // amdgpu_amdkfd_criu_resume unblocks (§5.5 steps 3–4).
      name: 'CRIU_OP RESUME',
      effect: ['FREE_SVM_METADATA', 'CRIU_RESUME'],
      when: (_env, s) => s.matches({ alive: { mmu: 'blocked' } } as never),
      run: (w) => w.resume(),
    },
    {
      // No RESTORE pending: the metadata list is freed "in all cases", evicted_bos is
      // still incremented, then -EINVAL (§5.5 steps 3–4).
      name: 'CRIU_OP RESUME without a pending RESTORE → -EINVAL',
      effect: ['FREE_SVM_METADATA', 'CRIU_RESUME'],
      when: (_env, s) => !s.matches({ alive: { mmu: 'blocked' } } as never),
      run: (w) => w.resume(-ERRNO.EINVAL),
    },
    {
      name: 'kfd.restore_userptr_worker',
      effect: ['USERPTR_RESTORE_WORKER'],
      run: (w) => w.queuedUserptrWorker(),
    },
    { name: 'exit', effect: ['EXIT'], run: (w) => w.exit() },
  ],
};
