/**
 * Adapter for criu_restore (machines/criu/restore.ts): each macro builds an application,
 * dumps it with `criu.dump` and restores the dump as pid 200 with one `criu.restore`, whose
 * effect is the whole stage sequence of that restore (spec §9.5, §9.6, §9.8).
 */
import { type CriuRestoreEvent, criuRestoreMachine } from '../../../machines/criu/restore.js';
import type { Adapter, EventPattern, Macro } from '../../../src/mbt/run.js';
import type { Variants } from '../../../src/world/types.js';
import { APP, CriuWorld, GPU_A, GPU_B, PEER, UNPRIVILEGED } from './criu-world.js';

type Env = { restored: boolean };
const once = (env: Env) => !env.restored;
const next = (): Env => ({ restored: true });
const RESTORED = 200;

const START = ['ROOT_TASK', 'PREPARE_NAMESPACES', 'POST_FORKING'] as const;
const LATE = ['UPDATE_VMA_MAP', 'RESTORER', 'RESTORE_SIGCHLD', 'RESTORE_CREDS', 'COMPLETE'] as const;
/** After the last pass: the late stages, then GPU state activated and RESUME at RESUME_DEVICES_LATE. */
const RESUMED_LATE = [
  ...LATE,
  { type: 'GPU_ACTIVATED', stage: 'resumeDevicesLate' },
  'RESUMED',
  'USERPTR_WORKER',
] as const;

/** A macro of the adapter: the one criu.restore of its world, with that restore's effect. */
function restoreOnce(
  name: string,
  effect: readonly EventPattern[],
  run: (w: CriuWorld) => void,
): Macro<CriuWorld, Env> {
  return { name, effect, when: once, next, run };
}

/** kfd (3), render A (4) acquired as A's VM. */
function base(w: CriuWorld): { kfd: number; a: number } {
  const kfd = w.open('/dev/kfd');
  const a = w.render(GPU_A);
  w.call(APP, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: a, gpu_id: GPU_A }, kfd);
  return { kfd, a };
}

function dumpAndRestore(w: CriuWorld, expect = 0, between?: (w: CriuWorld) => void, criu?: number): void {
  const d = w.dump();
  between?.(w);
  w.restore(d.out.object as string, RESTORED, expect, criu);
}

function setVariant<K extends keyof Variants>(w: CriuWorld, k: K, v: Variants[K]): void {
  w.world.variants[k] = v;
}

/** The application imports the dma-buf `fd` into render node `into`, then closes `fd`. */
function importAndClose(w: CriuWorld, fd: number, into: number): void {
  w.call(APP, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd }, into);
  w.call(APP, 'close', { fd });
}

/** Two GEM BOs of `pid` on render node `r`, the first closed: the one left is at handle 2. */
function boAtHandle2(w: CriuWorld, r: number, pid = APP): void {
  const h1 = w.gemCreate(r, pid);
  w.gemCreate(r, pid);
  w.call(pid, 'DRM_IOCTL_GEM_CLOSE', { handle: h1 }, r);
}

const macros: Macro<CriuWorld, Env>[] = [
  restoreOnce(
    'criu.restore of kfd + render node (RESUME at RESUME_DEVICES_LATE)',
    [...START, 'KFD_FILE_RESTORED', 'FILE_RESTORED', 'PASS_END', ...RESUMED_LATE],
    (w) => {
      base(w);
      dumpAndRestore(w);
    },
  ),
  restoreOnce(
    'criu.restore with resume "at-restore-file": GPU state activated at RESTORE_EXT_FILE',
    [
      ...START,
      'KFD_FILE_RESTORED',
      { type: 'GPU_ACTIVATED', stage: 'restoreFiles' },
      'FILE_RESTORED',
      'PASS_END',
      ...LATE,
      'RESUMED',
      'USERPTR_WORKER',
    ],
    (w) => {
      setVariant(w, 'resume', 'at-restore-file');
      base(w);
      dumpAndRestore(w);
    },
  ),
  restoreOnce(
    'criu.restore on a kernel with another MAX_GPU_INSTANCE (KFD RESTORE fails)',
    [...START, 'FILE_FAILED'],
    (w) => {
      const { kfd } = base(w);
      w.alloc(kfd, GPU_A, 0x7f0000000000n);
      dumpAndRestore(w, -5, (x) => setVariant(x, 'max_gpu_instance', 16));
    },
  ),
  restoreOnce(
    'criu.restore: a render-node import restored before its exporter (one retry)',
    [
      ...START,
      'KFD_FILE_RESTORED',
      'FILE_RETRY',
      'FILE_RESTORED',
      'PASS_END',
      'FILE_RESTORED',
      'PASS_END',
      ...RESUMED_LATE,
    ],
    (w) => {
      w.open('/dev/kfd'); // 3
      const b = w.render(GPU_B); // 4
      const a = w.render(GPU_A); // 5
      const h = w.gemCreate(a);
      const fd = w.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: h, flags: 0 }, a).out.fd as number;
      importAndClose(w, fd, b);
      dumpAndRestore(w);
    },
  ),
  restoreOnce(
    'criu.restore: a render node opened before /dev/kfd (no GPU map in the task yet: -ENODEV)',
    [...START, 'KFD_FILE_RESTORED', 'FILE_FAILED'],
    (w) => {
      // The application's /dev/kfd, dumped first, fills checkpoint_maps, so that the peer's
      // render node, dumped before the peer's own /dev/kfd, can be dumped at all (a render node
      // dumped before any /dev/kfd fails the dump); at restore the peer's render node comes
      // before the /dev/kfd that fills the peer's restore_maps.
      w.open('/dev/kfd'); // the application's 3
      const a = w.render(GPU_A, PEER); // 3
      const kfd = w.open('/dev/kfd', PEER); // 4
      w.call(PEER, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: a, gpu_id: GPU_A }, kfd);
      w.gemCreate(a, PEER);
      w.dumpTreeAndRestore([PEER, APP], -5);
    },
  ),
  restoreOnce(
    'criu.restore: a cross-GPU import under another handle number than its exporter’s (never published: no progress)',
    [...START, 'KFD_FILE_RESTORED', 'FILE_RESTORED', 'FILE_RETRY', 'PASS_END', 'FILE_RETRY', 'PASS_END'],
    (w) => {
      w.open('/dev/kfd'); // 3
      const a = w.render(GPU_A); // 4
      const b = w.render(GPU_B); // 5
      const h = w.gemCreate(a); // A's handle 1, published under 1
      w.gemCreate(b); // B's own handle 1
      const fd = w.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: h, flags: 0 }, a).out.fd as number;
      importAndClose(w, fd, b); // B's handle 2: an import no file publishes under 2
      dumpAndRestore(w, -5);
    },
  ),
  restoreOnce(
    'criu.restore with GEM_CHANGE_HANDLE disabled and a BO at handle 2 (render-node restore fails)',
    [...START, 'KFD_FILE_RESTORED', 'FILE_FAILED'],
    (w) => {
      setVariant(w, 'gem-change-handle', 'disabled');
      boAtHandle2(w, base(w).a);
      dumpAndRestore(w, -5);
    },
  ),
  restoreOnce(
    'criu.restore by a CRIU master without CAP_CHECKPOINT_RESTORE (RESUME fails: -EACCES)',
    [...START, 'KFD_FILE_RESTORED', 'FILE_RESTORED', 'PASS_END', ...LATE, 'RESUME_FAILED'],
    (w) => {
      base(w);
      dumpAndRestore(w, -5, undefined, UNPRIVILEGED);
    },
  ),
  restoreOnce(
    'criu.restore of a tree, the peer first: its dma-buf waits for the render file of the application (another task)',
    [
      ...START,
      'FILE_RETRY',
      'KFD_FILE_RESTORED',
      'FILE_RESTORED',
      'PASS_END',
      'FILE_RESTORED',
      'PASS_END',
      ...RESUMED_LATE,
    ],
    (w) => {
      w.open('/dev/kfd');
      w.sharedDmabuf();
      w.dumpTreeAndRestore([PEER, APP]);
    },
  ),
  restoreOnce(
    'criu.restore of a tree, the peer first holding only a render node: no GPU map in its task, it fails at FORKING (-ENODEV)',
    [...START, 'FILE_FAILED'],
    (w) => {
      w.open('/dev/kfd');
      w.gemCreate(w.render(GPU_A, PEER), PEER);
      w.dumpTreeAndRestore([PEER, APP], -5);
    },
  ),
];

const events: CriuRestoreEvent[] = [
  { type: 'ROOT_TASK' },
  { type: 'PREPARE_NAMESPACES' },
  { type: 'POST_FORKING' },
  { type: 'KFD_FILE_RESTORED' },
  { type: 'FILE_RESTORED' },
  { type: 'FILE_RETRY' },
  { type: 'PASS_END' },
  { type: 'FILE_FAILED' },
  { type: 'UPDATE_VMA_MAP' },
  { type: 'RESTORER' },
  { type: 'RESTORE_SIGCHLD' },
  { type: 'RESTORE_CREDS' },
  { type: 'COMPLETE' },
  { type: 'RESUMED' },
  { type: 'RESUME_FAILED' },
  { type: 'USERPTR_WORKER' },
  { type: 'GPU_ACTIVATED', stage: 'restoreFiles' },
  { type: 'GPU_ACTIVATED', stage: 'resumeDevicesLate' },
];

export const criuRestoreAdapter: Adapter<CriuWorld, Env> = {
  name: 'criu_restore (criu.restore)',
  machine: criuRestoreMachine,
  input: { pid: RESTORED },
  events,
  // the pid is left out: a tree keeps its pids, a one-task restore is renamed to RESTORED
  project: (c: { activated_in: string | null; passes: number }) => ({
    activated_in: c.activated_in,
    passes: c.passes,
  }),
  initialEnv: { restored: false },
  setup: () => new CriuWorld(),
  subject: (w) => (w.subject?.startsWith('criu.restore') ? w.subject : undefined),
  macros,
};
