/**
 * Composed-coverage configurations of the CRIU orchestration machines (criu.dump,
 * criu.restore; src/explore/coverage-suite.ts): one application (pid 100, ptrace child
 * of CRIU, pid 99) per configuration, set up as the MBT adapters set it up for one
 * stage sequence (test/mbt/adapters/criu-*.ts), then dumped, or dumped and restored
 * into pid 200, by CRIU or by a process without CAP_CHECKPOINT_RESTORE (pid 98).
 *
 * A dump and the restore of it are one action: a restore names the dump of the same
 * run by its object id, which is the next object the dump creates.
 */
import type { Call, Variants, World } from '../world/types.js';
import type { SuiteConfig } from './coverage-suite.js';
import { APP, CRIU, twoGpuConfig } from './coverage-suite-world.js';
import { call as familyCall, type Raw } from './families/common.js';
import type { Action } from './world-explorer.js';

/** [call, args, fd] of the application, or of another pid with a fourth element. */
type Spec = [string, Raw, number?, number?];

const GPU_A = 0x1001;
const GPU_B = 0x2002;
const UNPRIVILEGED = 98;
const RESTORED = 200;
/** A second task of the application's tree (dumped with `pids`, restored under its own pid). */
const PEER = 101;

function call([name, args, fd, pid]: Spec): Call {
  const who = pid ?? APP;
  return familyCall(name, args, who || undefined, fd);
}

/** criu.dump and criu.restore are kernel-external (no pid): pid 0 marks them. */
const dump = (args: Raw = {}): Spec => ['criu.dump', { pid: APP, ...args }, undefined, 0];

function actions(w: World): Action[] {
  const out: Action[] = [{ name: 'dump', calls: [call(dump())] }];
  if (!w.tasks[RESTORED]?.alive)
    for (const [name, criu] of [
      ['dump, restore into 200', CRIU],
      ['dump, restore into 200 by an unprivileged CRIU', UNPRIVILEGED],
    ] as const) {
      const object = `criu.dump#${w.next.object}`;
      out.push({
        name,
        calls: [call(dump()), call(['criu.restore', { dump: object, pid: RESTORED, criu }, undefined, 0])],
      });
    }
  return out;
}

/**
 * A tree of two tasks: dumped together, both exit, restored under their own pids with
 * the peer's or the application's turn first (one action, as above).
 */
function treeActions(w: World): Action[] {
  if (w.tasks[APP]?.alive === false) return [];
  const object = `criu.dump#${w.next.object}`;
  return [
    [PEER, APP],
    [APP, PEER],
  ].map((order) => ({
    name: `dump the tree, both exit, restore it (${order[0]} first)`,
    calls: [
      call(dump({ pids: [PEER] })),
      call(['exit', {}, undefined, APP]),
      call(['exit', {}, undefined, PEER]),
      call(['criu.restore', { dump: object, criu: CRIU, order }, undefined, 0]),
    ],
  }));
}

function criuConfig(
  name: string,
  setup: Spec[],
  variants: Partial<Variants> = {},
  extra: Action[] = [],
  expect?: string[],
  offered: (w: World) => Action[] = actions,
): SuiteConfig {
  return twoGpuConfig(name, 2, expect, () => ({
    gpus: [GPU_A, GPU_B],
    processes: [
      { pid: APP, ptrace_parent: CRIU },
      { pid: RESTORED, ptrace_parent: CRIU },
      { pid: PEER, ptrace_parent: CRIU, caps: ['CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE', 'CAP_SYS_PTRACE'] },
      { pid: UNPRIVILEGED, caps: [] },
    ],
    variants,
    setup: setup.map(call),
    actions: (w) => [...offered(w), ...extra],
  }));
}

const open = (path: string): Spec => ['open', { path }];
const KFD_BASE: Spec[] = [
  open('/dev/kfd'), // 3
  open('/dev/dri/renderD128'), // 4
  ['AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 4, gpu_id: GPU_A }, 3],
];
const gemCreate = (fd: number, pid?: number): Spec => [
  'DRM_IOCTL_AMDGPU_GEM_CREATE',
  { bo_size: 1 << 20, alignment: 4096, domains: 4, domain_flags: 0 },
  fd,
  pid,
];
const kfdAlloc: Spec = [
  'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
  { va_addr: 0x7f0000000000n, size: 1 << 20, gpu_id: GPU_A, flags: ['VRAM', 'WRITABLE'] },
  3,
];

export const CRIU_CONFIGS: SuiteConfig[] = [
  // The dump and restore of kfd + a render node, by CRIU and by a process that may not
  // RESUME (-EACCES at RESUME_DEVICES_LATE); and a dump of a pid with no task.
  criuConfig('criu kfd and render node', KFD_BASE, {}, [
    { name: 'dump pid 300 (no task)', calls: [call(['criu.dump', { pid: 300 }, undefined, 0])] },
    { name: 'dump by pid 7 (not the ptrace parent)', calls: [call(dump({ criu: 7 }))] },
  ]),
  // resume=at-restore-file: the GPU state is activated at RESTORE_EXT_FILE (a known bug).
  criuConfig('criu resume at RESTORE_EXT_FILE', KFD_BASE, { resume: 'at-restore-file' }, [], ['criu.resume-late']),
  // A dma-buf fd after its exporting render node: dumped with it.
  criuConfig('criu dma-buf after its exporter', [
    ...KFD_BASE,
    gemCreate(4),
    ['DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: 1, flags: 0 }, 4], // 5
  ]),
  // A dma-buf fd before the render node holding its BO: deferred, then matched; restored
  // before its exporter: one retry.
  criuConfig('criu dma-buf before its importer', [
    open('/dev/kfd'), // 3
    open('/dev/dri/renderD129'), // 4
    gemCreate(4),
    ['DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: 1, flags: 0 }, 4], // 5
    open('/dev/dri/renderD129'), // 6
    ['DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: 5 }, 6],
    ['close', { fd: 4 }],
  ]),
  // A KFD BO exported as a dma-buf no render node holds: the dump fails after UNPAUSE.
  criuConfig('criu KFD dma-buf never matched', [
    ...KFD_BASE,
    kfdAlloc,
    ['AMDKFD_IOC_EXPORT_DMABUF', { handle: BigInt(GPU_A) << 32n, flags: 0 }, 3],
  ]),
  // A render node opened before /dev/kfd: no GPU map in the task when it is restored (-ENODEV).
  criuConfig('criu render node before the KFD file', [
    open('/dev/dri/renderD128'), // 3
    open('/dev/kfd'), // 4
    ['AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 3, gpu_id: GPU_A }, 4],
    gemCreate(3),
  ]),
  // A cross-GPU import at another handle number than its exporter's: the restore publishes the
  // exporter's BO under its own number only, so the import waits for ever (no progress).
  criuConfig('criu cross-GPU import under another number', [
    open('/dev/kfd'), // 3
    open('/dev/dri/renderD128'), // 4
    open('/dev/dri/renderD129'), // 5
    gemCreate(4), // GPU A's handle 1
    gemCreate(5), // GPU B's own handle 1
    ['DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: 1, flags: 0 }, 4], // 6
    ['DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: 6 }, 5], // GPU B's handle 2, an import
    ['close', { fd: 6 }],
  ]),
  // GEM_CHANGE_HANDLE disabled and a BO at handle 2: the render-node restore fails.
  criuConfig(
    'criu without GEM_CHANGE_HANDLE',
    [...KFD_BASE, gemCreate(4), gemCreate(4), ['DRM_IOCTL_GEM_CLOSE', { handle: 1 }, 4]],
    { 'gem-change-handle': 'disabled' },
  ),
  // Two /dev/kfd fds of one process: the second UNPAUSE finds it unpaused.
  criuConfig('criu two kfd fds', [open('/dev/kfd'), open('/dev/kfd')]),
  // A tree: the peer holds (pidfd_getfd) the only fd of a dma-buf whose BO the
  // application's render file holds; restored peer first, its dma-buf waits for the
  // application (a retry at FORKING); with a /dev/kfd in the peer too, the second task's
  // KFD file is restored in the RESTORE stage.
  ...[false, true].map((peerKfd) =>
    criuConfig(
      `criu tree, a dma-buf shared with a peer${peerKfd ? ' that has /dev/kfd' : ''}`,
      [
        open('/dev/kfd'), // 3
        open('/dev/dri/renderD128'), // 4
        gemCreate(4),
        ['DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: 1, flags: 0 }, 4], // 5
        ['pidfd_getfd', { pid: APP, targetfd: 5, flags: 0 }, undefined, PEER],
        ['close', { fd: 5 }],
        ...(peerKfd ? [['open', { path: '/dev/kfd' }, undefined, PEER] as Spec] : []),
      ],
      {},
      [],
      // This configuration found a model bug, now fixed (test/criu/restore-tree.test.ts):
      // with /dev/kfd in both tasks and the peer's turn first, the tree restore counted the
      // application — its /dev/kfd open, its KFD RESTORE not run yet — as activated in
      // RESTORE_EXT_FILE.
      undefined,
      treeActions,
    ),
  ),
  // A tree whose peer holds only a render node with a BO, restored peer first: its render file
  // is the first RESTORE_EXT_FILE, at FORKING, and fails there (no GPU map in a task without
  // /dev/kfd, -ENODEV). (This configuration once found the restore refusing FILE_RESTORED at
  // FORKING, an internal error; such a file can no longer be restored at all.)
  criuConfig(
    'criu tree, a peer with only a render node',
    [
      open('/dev/kfd'), // 3
      ['open', { path: '/dev/dri/renderD128' }, undefined, PEER], // 3 of the peer
      gemCreate(3, PEER),
    ],
    {},
    [],
    undefined,
    treeActions,
  ),
];
