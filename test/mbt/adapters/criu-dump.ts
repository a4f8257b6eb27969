/**
 * Adapter for criu_dump (machines/criu/dump.ts): each macro sets up an application and runs
 * one `criu.dump`, whose effect is the whole stage sequence of that dump (spec §9.4, §9.8).
 */
import { type CriuDumpEvent, criuDumpMachine } from '../../../machines/criu/dump.js';
import type { Adapter, Macro } from '../../../src/mbt/run.js';
import { APP, CriuWorld, GPU_A, GPU_B, PEER } from './criu-world.js';

type Env = { dumped: boolean };
const once = (env: Env) => !env.dumped;
const next = (): Env => ({ dumped: true });

/** kfd (3), render A (4) acquired as A's VM. */
function base(w: CriuWorld): { kfd: number; a: number } {
  const kfd = w.open('/dev/kfd');
  const a = w.render(GPU_A);
  w.call(APP, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: a, gpu_id: GPU_A }, kfd);
  return { kfd, a };
}

const macros: Macro<CriuWorld, Env>[] = [
  {
    name: 'criu.dump of a pid with no task',
    effect: ['VMA_SCAN_FAILED'],
    when: once,
    next,
    run: (w) => w.dump(-3),
  },
  {
    name: 'criu.dump: kfd + render node',
    effect: ['VMA_SCAN_DONE', 'KFD_FILE_DUMPED', 'DRM_FILE_DUMPED', 'FILES_DONE', 'UNPAUSED'],
    when: once,
    next,
    run: (w) => {
      base(w);
      w.dump();
    },
  },
  {
    name: 'criu.dump: a dma-buf fd after its exporting render node',
    effect: ['VMA_SCAN_DONE', 'KFD_FILE_DUMPED', 'DRM_FILE_DUMPED', 'DMABUF_DUMPED', 'FILES_DONE', 'UNPAUSED'],
    when: once,
    next,
    run: (w) => {
      const { a } = base(w);
      const h = w.gemCreate(a);
      w.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: h, flags: 0 }, a);
      w.dump();
    },
  },
  {
    name: 'criu.dump: a dma-buf fd before the render node that holds its BO (deferred, then matched)',
    effect: [
      'VMA_SCAN_DONE',
      'KFD_FILE_DUMPED',
      'DMABUF_DEFERRED',
      { type: 'DRM_FILE_DUMPED', matched: 1 },
      'FILES_DONE',
      'UNPAUSED',
    ],
    when: once,
    next,
    run: (w) => {
      const kfd = w.open('/dev/kfd'); // 3
      const tmp = w.render(GPU_B); // 4
      const h = w.gemCreate(tmp);
      const dmabuf = w.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: h, flags: 0 }, tmp).out.fd as number; // 5
      const b = w.render(GPU_B); // 6
      w.call(APP, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: dmabuf }, b);
      w.call(APP, 'close', { fd: tmp });
      void kfd;
      w.dump();
    },
  },
  {
    name: 'criu.dump: a KFD BO exported as a dma-buf no render node holds (fails after UNPAUSE)',
    effect: ['VMA_SCAN_DONE', 'KFD_FILE_DUMPED', 'DRM_FILE_DUMPED', 'DMABUF_DEFERRED', 'FILES_DONE', 'UNPAUSED'],
    when: once,
    next,
    run: (w) => {
      const { kfd } = base(w);
      const h = w.alloc(kfd, GPU_A, 0x7f0000000000n);
      w.call(APP, 'AMDKFD_IOC_EXPORT_DMABUF', { handle: h, flags: 0 }, kfd);
      w.dump(-5);
    },
  },
  {
    name: 'criu.dump by a process that is not the ptrace parent (PROCESS_INFO fails)',
    effect: ['VMA_SCAN_DONE', 'FILE_FAILED'],
    when: once,
    next,
    run: (w) => {
      base(w);
      w.dump(-5, { criu: 7 });
    },
  },
  {
    name: 'criu.dump: two /dev/kfd fds of one process (the second UNPAUSE finds it unpaused)',
    effect: ['VMA_SCAN_DONE', 'KFD_FILE_DUMPED', 'KFD_FILE_DUMPED', 'FILES_DONE', 'UNPAUSE_FAILED'],
    when: once,
    next,
    run: (w) => {
      w.open('/dev/kfd');
      w.open('/dev/kfd');
      w.dump(-5);
    },
  },
  {
    name: 'criu.dump of a tree: the dma-buf of the peer (taken with pidfd_getfd) waits for the render file of the application',
    effect: [
      'VMA_SCAN_DONE',
      'DMABUF_DEFERRED',
      'TASK_DUMPED',
      'VMA_SCAN_DONE',
      'KFD_FILE_DUMPED',
      { type: 'DRM_FILE_DUMPED', matched: 1 },
      'FILES_DONE',
      'UNPAUSED',
    ],
    when: once,
    next,
    run: (w) => {
      w.open('/dev/kfd');
      w.sharedDmabuf();
      w.dump(0, { pid: PEER, pids: [APP] });
    },
  },
];

const events: CriuDumpEvent[] = [
  { type: 'TASK_DUMPED' },
  { type: 'VMA_SCAN_DONE' },
  { type: 'VMA_SCAN_FAILED' },
  { type: 'KFD_FILE_DUMPED' },
  { type: 'DRM_FILE_DUMPED', matched: 0 },
  { type: 'DRM_FILE_DUMPED', matched: 1 },
  { type: 'DMABUF_DUMPED' },
  { type: 'DMABUF_DEFERRED' },
  { type: 'FILE_FAILED' },
  { type: 'FILES_DONE' },
  { type: 'UNPAUSED' },
  { type: 'UNPAUSE_FAILED' },
];

export const criuDumpAdapter: Adapter<CriuWorld, Env> = {
  name: 'criu_dump (criu.dump)',
  machine: criuDumpMachine,
  input: { pid: APP },
  events,
  initialEnv: { dumped: false },
  setup: () => new CriuWorld(),
  subject: (w) => w.subject,
  macros,
};
