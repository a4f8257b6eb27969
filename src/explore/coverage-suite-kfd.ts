/**
 * Composed-coverage configurations of the KFD machines (src/explore/coverage-suite.ts):
 * small worlds of an application (pid 100, ptrace child of CRIU, pid 99) on two GPUs,
 * each exploring one theme — BO mappings, events, queues with CRIU's pause, SVM ranges,
 * and a CRIU RESTORE followed by RESUME — with the calls the MBT adapters use for each
 * transition (test/mbt/adapters/*.ts).
 */
import type { ObjectPriv } from '../criu/kfd-priv.js';
import { SAMPLE_BO_VA as VA, userptrRestoreBo } from '../mbt/sample-bo.js';
import { createQueueArgs, QUEUE_RING, sampleQueuePriv } from '../mbt/sample-queue.js';
import { sampleRestoreArgs } from '../mbt/sample-restore.js';
import type { Call, FdRef, Variants, World } from '../world/types.js';
import type { Action } from './world-explorer.js';
import type { SuiteConfig } from './coverage-suite.js';
import { APP, CRIU, GPU_A, GPU_B, twoGpuConfig } from './coverage-suite-world.js';
import { call as familyCall, type Raw } from './families/common.js';

/** [call, args, pid, fd] */
type CallSpec = [string, Raw, number?, FdRef?];
/** [action name, call, args, pid, fd] */
type KfdAction = [string, ...CallSpec];

const KFD = 3;
const DRM_A = 4;
const DRM_B = 5;
/** CRIU's own /dev/kfd (opened in setup when a configuration needs RESUME). */
const CRIU_KFD = 3;
const PAGE = 4096n;
const SVM_START = 0x7e0000000n;
const SVM_PAGES = 64n;
const handle = (gpu: number, idr: number) => (BigInt(gpu) << 32n) | BigInt(idr);

function call([name, args, pid, fd]: CallSpec): Call {
  return familyCall(name, args, pid, fd);
}

function kfdConfig(
  name: string,
  setup: CallSpec[],
  specs: KfdAction[],
  maxDepth: number,
  variants: Partial<Variants> = {},
  /** Actions offered only in the worlds where the predicate holds, by name. */
  when: Record<string, (w: World) => boolean> = {},
): SuiteConfig {
  return twoGpuConfig(name, maxDepth, undefined, () => {
    const actions = specs.map(([n, ...c]) => ({ name: n, calls: [call(c)] }));
    return {
      processes: [{ pid: APP, ptrace_parent: CRIU }],
      variants,
      setup: setup.map(call),
      actions: (w: World): Action[] => actions.filter((a) => when[a.name]?.(w) ?? true),
    };
  });
}

const ioctl = (name: string, args: Raw): CallSpec => [name, args, APP, KFD];
const criuOp = (op: string): CallSpec => ['AMDKFD_IOC_CRIU_OP', { op }, CRIU, { pid: APP, fd: KFD }];
const OPEN_ALL: CallSpec[] = [
  ['open', { path: '/dev/kfd' }, APP],
  ['open', { path: '/dev/dri/renderD128' }, APP],
  ['open', { path: '/dev/dri/renderD129' }, APP],
];
const VMS: CallSpec[] = [
  ioctl('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: DRM_A, gpu_id: GPU_A }),
  ioctl('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: DRM_B, gpu_id: GPU_B }),
];
const allocGtt = (va: bigint): CallSpec =>
  ioctl('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', { va_addr: va, size: 1n << 16n, gpu_id: GPU_A, flags: ['GTT', 'WRITABLE'] });
const H = handle(GPU_A, 0);

/** kfd_bo: MAP and UNMAP in one or two VMs, EXPORT, FREE, exit. */
const BO_MAPPINGS = kfdConfig(
  'kfd BO mappings',
  [...OPEN_ALL, ...VMS, allocGtt(VA)],
  [
    ['map A', ...ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: H, device_ids: [GPU_A] })],
    ['map B', ...ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: H, device_ids: [GPU_B] })],
    ['unmap A', ...ioctl('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', { handle: H, device_ids: [GPU_A] })],
    ['unmap B', ...ioctl('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', { handle: H, device_ids: [GPU_B] })],
    ['export', ...ioctl('AMDKFD_IOC_EXPORT_DMABUF', { handle: H, flags: 0 })],
    ['free', ...ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: H })],
    ['exit', 'exit', {}, APP],
  ],
  4,
);

const HB = handle(GPU_B, 0);
const AQL = handle(GPU_A, 1);

/**
 * kfd_bo's ATTACH: MAP over a range another BO maps in that VM (GPU B's BO at the same VA)
 * attaches and maps nothing (-EINVAL), from `unmapped` or, mapped on A first, from `mapped`;
 * and an AQL BO at that VA is left half mapped on B (its entry at `va + size` mapped).
 */
const BO_MAP_CONFLICTS = kfdConfig(
  'kfd BO map conflicts',
  [
    ...OPEN_ALL,
    ...VMS,
    allocGtt(VA),
    ioctl('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', {
      va_addr: VA,
      size: 1n << 16n,
      gpu_id: GPU_B,
      flags: ['GTT', 'WRITABLE'],
    }),
    ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: HB, device_ids: [GPU_B] }),
    ioctl('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', {
      va_addr: VA,
      size: 1n << 17n,
      gpu_id: GPU_A,
      flags: ['GTT', 'WRITABLE', 'AQL_QUEUE_MEM'],
    }),
  ],
  [
    ['map A', ...ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: H, device_ids: [GPU_A] })],
    ["map B over B's BO", ...ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: H, device_ids: [GPU_B] })],
    ['map AQL B', ...ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: AQL, device_ids: [GPU_B] })],
    ['unmap AQL B', ...ioctl('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', { handle: AQL, device_ids: [GPU_B] })],
    ["unmap B's BO", ...ioctl('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', { handle: HB, device_ids: [GPU_B] })],
    ['free', ...ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: H })],
    ['exit', 'exit', {}, APP],
  ],
  4,
);

/** kfd_event and the process's signal page: CREATE (with and without an event page), SET, RESET, DESTROY. */
const EVENTS = kfdConfig(
  'kfd events',
  [...OPEN_ALL, VMS[0]!, allocGtt(VA)],
  [
    ['create', ...ioctl('AMDKFD_IOC_CREATE_EVENT', { event_type: 'SIGNAL', auto_reset: 1 })],
    [
      'create on the event page',
      ...ioctl('AMDKFD_IOC_CREATE_EVENT', { event_type: 'SIGNAL', auto_reset: 1, event_page_offset: H }),
    ],
    ['set 1', ...ioctl('AMDKFD_IOC_SET_EVENT', { event_id: 1 })],
    ['reset 1', ...ioctl('AMDKFD_IOC_RESET_EVENT', { event_id: 1 })],
    ['destroy 1', ...ioctl('AMDKFD_IOC_DESTROY_EVENT', { event_id: 1 })],
    ['exit', 'exit', {}, APP],
  ],
  4,
);

const QUEUE_ACTIONS: KfdAction[] = [
  ['create queue', ...ioctl('AMDKFD_IOC_CREATE_QUEUE', createQueueArgs(GPU_A))],
  ['destroy queue', ...ioctl('AMDKFD_IOC_DESTROY_QUEUE', { queue_id: 0 })],
  ['PROCESS_INFO', ...criuOp('PROCESS_INFO')],
  ['UNPAUSE', ...criuOp('UNPAUSE')],
  ['exit', 'exit', {}, APP],
];

/**
 * kfd_queue and the pdd's eviction count under CRIU's PROCESS_INFO / UNPAUSE (with the
 * evict-once design: the kernel's evict-again leaves the queues evicted after a second
 * PROCESS_INFO, a known bug, docs/known-bugs.md).
 */
const QUEUES = kfdConfig(
  'kfd queues',
  [
    ...OPEN_ALL,
    VMS[0]!,
    allocGtt(QUEUE_RING),
    ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: H, device_ids: [GPU_A] }),
  ],
  QUEUE_ACTIONS,
  5,
  { 'kfd-process-info': 'evict-once' },
);

const svm = (attrs: { type: string; value: number }[], start = SVM_START, pages = SVM_PAGES) =>
  ioctl('AMDKFD_IOC_SVM', { start_addr: start * PAGE, size: pages * PAGE, op: 'SET_ATTR', attrs });

/** kfd_svm_range: SET_ATTR with and without GPU access, a split at the last page, exit. */
const SVM = kfdConfig(
  'kfd SVM ranges',
  [...OPEN_ALL, ...VMS],
  [
    ['access A', ...svm([{ type: 'ACCESS', value: GPU_A }])],
    [
      'no access',
      ...svm([
        { type: 'NO_ACCESS', value: GPU_A },
        { type: 'NO_ACCESS', value: GPU_B },
      ]),
    ],
    ['granularity', ...svm([{ type: 'GRANULARITY', value: 9 }])],
    ['split the last page', ...svm([{ type: 'GRANULARITY', value: 0 }], SVM_START + SVM_PAGES - 1n, 1n)],
    ['exit', 'exit', {}, APP],
  ],
  4,
);

const QUEUE_PRIV = sampleQueuePriv(GPU_A, 1);

const SVM_PRIV: ObjectPriv = {
  object_type: 2,
  start_addr: SVM_START,
  size: SVM_PAGES,
  attrs: [
    { type: 0, value: 0xffffffff },
    { type: 1, value: 0xffffffff },
    { type: 5, value: 0 },
    { type: 7, value: 9 },
    { type: 4, value: GPU_A },
    { type: 4, value: GPU_B },
  ],
} as ObjectPriv;

const EVENT_PRIV = { object_type: 1, user_handle: 0n, event_id: 2, auto_reset: 1, type: 0, signaled: 1 } as ObjectPriv;

const USERPTR_BO = userptrRestoreBo(GPU_A, [GPU_A]);

/** One CRIU RESTORE of a userptr BO, a queue with GWS, a signaled event and an SVM range. */
function restoreAll(): CallSpec {
  return ioctl(
    'AMDKFD_IOC_CRIU_OP',
    sampleRestoreArgs({
      devices: [
        { gpu: GPU_A, drm_fd: DRM_A },
        { gpu: GPU_B, drm_fd: DRM_B },
      ],
      bos: [USERPTR_BO],
      objects: [QUEUE_PRIV as ObjectPriv, EVENT_PRIV, SVM_PRIV],
    }),
  );
}

/**
 * RESTORE into a process without VMs, CRIU's RESUME, the userptr worker, exit (spec §5.4,
 * §5.5). RESTORE is offered once, as CRIU issues it: a second one fails with -EINVAL after
 * criu_restore has evicted the queues again, which it does not undo (kfd_chardev.c), so the
 * queues would stay evicted.
 */
const RESTORE = kfdConfig(
  'kfd restore and resume',
  [...OPEN_ALL, ['open', { path: '/dev/kfd' }, CRIU]],
  [
    ['restore', ...restoreAll()],
    ['resume', 'AMDKFD_IOC_CRIU_OP', { op: 'RESUME', pid: APP }, CRIU, CRIU_KFD],
    ['userptr worker', 'kfd.restore_userptr_worker', { pid: APP }],
    ['PROCESS_INFO', ...criuOp('PROCESS_INFO')],
    ['UNPAUSE', ...criuOp('UNPAUSE')],
    ['exit', 'exit', {}, APP],
  ],
  5,
  {},
  { restore: (w) => Object.keys(w.tasks[APP]?.queues ?? {}).length === 0 && w.tasks[APP]?.alive === true },
);

export const KFD_CONFIGS: SuiteConfig[] = [BO_MAPPINGS, BO_MAP_CONFLICTS, EVENTS, QUEUES, SVM, RESTORE];
