/**
 * A CRIU dump of a process tree as the amdgpu plugin sees it (spec §9.3, §9.4), task after
 * task: the task's VMA scan (HANDLE_DEVICE_VMA), one DUMP_EXT_FILE per /dev/kfd, render-node
 * or dma-buf file, then the next task (TASK_DUMPED); after the last one DUMP_DEVICES_LATE
 * (UNPAUSE). A dma-buf whose exporting render-node file is not dumped yet — in this task or
 * another — is deferred and retried after every later render-node file (spec §9.8); one still
 * deferred at DUMP_DEVICES_LATE fails the dump. A failed dump does not unpause: the queues stay
 * evicted (spec §9.4 "The queues remain evicted after an abort").
 */
import { contextSchema } from '../context-schema.js';
import { assign, setup } from 'xstate';

export interface CriuDumpContext {
  /** The root of the dumped tree (the first task dumped). */
  pid: number;
  /** Every task dumped, in dump order. */
  pids: number[];
  /** Tasks whose files are dumped (the current one included). */
  tasks: number;
  /** Files dumped so far (kfd, render node, dma-buf). */
  files: number;
  /** dma-buf fds waiting for their exporter's render-node file. */
  deferred: number;
  /** Whether a /dev/kfd file was dumped (DUMP_DEVICES_LATE unpauses it). */
  kfd: boolean;
}

/**
 * CriuDumpContext read back from a snapshot (machines/context-schema.ts). No refs: `pid` and
 * `pids` are what `criu.dump` was asked for, and a dump of a task that does not exist is made
 * (and fails at once, VMA_SCAN_FAILED), so they need not name tasks of the world.
 */
export const criuDumpContextSpec = contextSchema<CriuDumpContext>()(({ z, u32 }) =>
  z.strictObject({
    pid: u32,
    pids: z.array(u32),
    /** Starts at 1 (the first task) and only grows. */
    tasks: u32.min(1),
    files: u32,
    /** The dma-bufs waiting: each DRM_FILE_DUMPED takes off only those it matched. */
    deferred: u32,
    kfd: z.boolean(),
  }),
);

export type CriuDumpEvent =
  | { type: 'VMA_SCAN_DONE' }
  | { type: 'VMA_SCAN_FAILED' }
  /** The task's files are dumped; CRIU goes on with the next task of the tree. */
  | { type: 'TASK_DUMPED' }
  | { type: 'KFD_FILE_DUMPED' }
  | { type: 'DRM_FILE_DUMPED'; matched: number }
  | { type: 'DMABUF_DUMPED' }
  | { type: 'DMABUF_DEFERRED' }
  | { type: 'FILE_FAILED' }
  | { type: 'FILES_DONE' }
  | { type: 'UNPAUSED' }
  | { type: 'UNPAUSE_FAILED' };

export const criuDumpMachine = setup({
  types: {} as { context: CriuDumpContext; events: CriuDumpEvent; input: { pid: number; pids?: number[] } },
  guards: {
    noneDeferred: ({ context }) => context.deferred === 0,
    someDeferred: ({ context }) => context.deferred > 0,
  },
  actions: {
    kfdDumped: assign({ files: ({ context }) => context.files + 1, kfd: () => true }),
    drmDumped: assign({
      files: ({ context, event }) => context.files + 1 + (event.type === 'DRM_FILE_DUMPED' ? event.matched : 0),
      deferred: ({ context, event }) => context.deferred - (event.type === 'DRM_FILE_DUMPED' ? event.matched : 0),
    }),
    dmabufDumped: assign({ files: ({ context }) => context.files + 1 }),
    deferDmabuf: assign({ deferred: ({ context }) => context.deferred + 1 }),
    nextTask: assign({ tasks: ({ context }) => context.tasks + 1 }),
  },
}).createMachine({
  id: 'criu_dump',
  context: ({ input }) => ({
    pid: input.pid,
    pids: input.pids ?? [input.pid],
    tasks: 1,
    files: 0,
    deferred: 0,
    kfd: false,
  }),
  initial: 'handleDeviceVma',
  states: {
    /** HANDLE_DEVICE_VMA while CRIU parses /proc/pid/smaps of the task (spec §9.4 step 1). */
    handleDeviceVma: { on: { VMA_SCAN_DONE: 'dumpExtFile', VMA_SCAN_FAILED: 'failed' } },
    /** DUMP_EXT_FILE per fd of the task (spec §9.4 step 2, §9.8). */
    dumpExtFile: {
      on: {
        TASK_DUMPED: { target: 'handleDeviceVma', actions: 'nextTask' },
        KFD_FILE_DUMPED: { target: 'dumpExtFile', actions: 'kfdDumped' },
        DRM_FILE_DUMPED: { target: 'dumpExtFile', actions: 'drmDumped' },
        DMABUF_DUMPED: { target: 'dumpExtFile', actions: 'dmabufDumped' },
        DMABUF_DEFERRED: { target: 'dumpExtFile', actions: 'deferDmabuf' },
        FILE_FAILED: 'failed',
        FILES_DONE: 'dumpDevicesLate',
      },
    },
    /** DUMP_DEVICES_LATE: UNPAUSE each kfd file, then post_dump_dmabuf_check (spec §9.4 step 3). */
    dumpDevicesLate: {
      on: {
        UNPAUSED: [
          { guard: 'noneDeferred', target: 'done' },
          { guard: 'someDeferred', target: 'failed' },
        ],
        UNPAUSE_FAILED: 'failed',
      },
    },
    /** Kept (not final) so that reports can read the outcome. */
    done: {},
    /** The dump aborted; the queues stay paused if it aborted before DUMP_DEVICES_LATE. */
    failed: {},
  },
});
