/**
 * A CRIU restore of a process tree with the amdgpu plugin, in CRIU's stages (spec §9.3, §9.5,
 * §11.5): ROOT_TASK → PREPARE_NAMESPACES → FORKING (POST_FORKING) → RESTORE (RESTORE_EXT_FILE
 * in every task: its /dev/kfd first, then render nodes and dma-buf fds, in passes over the
 * tasks; an import whose exporter — in this task or another — is not published asks for a
 * retry, a pass in which no task makes progress fails) → UPDATE_VMA_MAP → the restorer
 * moves VMAs to their final addresses → RESTORE_SIGCHLD → RESTORE_CREDS → COMPLETE →
 * RESUME_DEVICES_LATE (KFD RESUME by pid) → the userptr restore worker lets the queues run.
 */
import { contextSchema } from '../context-schema.js';
import { assign, setup } from 'xstate';

export interface CriuRestoreContext {
  /** The root of the restored tree. */
  pid: number;
  /** Every restored task. */
  pids: number[];
  /** Files restored in the current RESTORE_EXT_FILE pass. */
  progress: number;
  /** Files still waiting for a retry. */
  pending: number;
  /** RESTORE_EXT_FILE passes run. */
  passes: number;
  /**
   * The stage in which the restored process's GPU state was first activated (KFD RESUME
   * applied: MMU notifiers unblocked, userptr/SVM mappings validated, or a queue running);
   * null while it is not (spec §9.6: only at RESUME_DEVICES_LATE).
   */
  activated_in: string | null;
  /**
   * The images are a dump of this world (criu.restore {dump}): a checkpoint this world's
   * kernel wrote, unchanged. False when they come from a directory, which may have been edited
   * or written on another machine (invariant criu.restore-accepts-checkpoint). A flag, not the
   * dump's object id: an id would tell apart worlds the explorer counts as one.
   */
  from_dump: boolean;
  /**
   * What the first failed CRIU_OP(RESTORE) returned ("Restore ioctl failed", spec §9.5 step
   * 3.4), or null while none failed: kept so that invariants can tell the kernel refusing the
   * checkpoint from the other ways a restore fails.
   */
  restore_ioctl_ret: number | null;
}

/** The stages GPU_ACTIVATED is taken in: `activated_in` is the state the machine was in then. */
const ACTIVATION_STAGES: readonly string[] = ['restoreFiles', 'resumeDevicesLate'];

/**
 * CriuRestoreContext read back from a snapshot (machines/context-schema.ts). No refs: the
 * object is made before the tasks are (and a restore whose tasks cannot be planned makes none),
 * so `pid` and `pids` need not name tasks of the world.
 */
export const criuRestoreContextSpec = contextSchema<CriuRestoreContext>()(({ z, u32, int }) =>
  z.strictObject({
    pid: u32,
    pids: z.array(u32),
    progress: u32,
    pending: u32,
    passes: u32,
    activated_in: z
      .string()
      .refine((s) => ACTIVATION_STAGES.includes(s), `one of ${ACTIVATION_STAGES.map((s) => `"${s}"`).join(', ')}`)
      .nullable(),
    from_dump: z.boolean(),
    /** A failed ioctl's return: a negative errno (-1 .. -MAX_ERRNO). */
    restore_ioctl_ret: int.min(-4095).max(-1).nullable(),
  }),
);

export type CriuRestoreEvent =
  | { type: 'ROOT_TASK' }
  | { type: 'PREPARE_NAMESPACES' }
  | { type: 'POST_FORKING' }
  | { type: 'KFD_FILE_RESTORED' }
  | { type: 'FILE_RESTORED' }
  | { type: 'FILE_RETRY' }
  | { type: 'PASS_END' }
  /** A file could not be restored; `restore_ioctl_ret` when it was /dev/kfd's CRIU_OP(RESTORE). */
  | { type: 'FILE_FAILED'; restore_ioctl_ret?: number }
  | { type: 'UPDATE_VMA_MAP' }
  | { type: 'RESTORER' }
  | { type: 'RESTORE_SIGCHLD' }
  | { type: 'RESTORE_CREDS' }
  | { type: 'COMPLETE' }
  | { type: 'RESUMED' }
  | { type: 'RESUME_FAILED' }
  | { type: 'USERPTR_WORKER' }
  /** The orchestrator saw the restored process's GPU state activated (first time is kept). */
  | { type: 'GPU_ACTIVATED'; stage: string };

export const criuRestoreMachine = setup({
  types: {} as {
    context: CriuRestoreContext;
    events: CriuRestoreEvent;
    input: { pid: number; pids?: number[]; fromDump?: boolean };
  },
  guards: {
    allDone: ({ context }) => context.pending === 0,
    progressed: ({ context }) => context.pending > 0 && context.progress > 0,
    stuck: ({ context }) => context.pending > 0 && context.progress === 0,
  },
  actions: {
    restored: assign({ progress: ({ context }) => context.progress + 1 }),
    retry: assign({ pending: ({ context }) => context.pending + 1 }),
    activated: assign({
      activated_in: ({ context, event }) =>
        context.activated_in ?? (event.type === 'GPU_ACTIVATED' ? event.stage : null),
    }),
    restoreIoctlFailed: assign({
      // FILE_FAILED ends the restore (`failed` takes no event): it is heard once
      restore_ioctl_ret: ({ event }) => (event.type === 'FILE_FAILED' ? (event.restore_ioctl_ret ?? null) : null),
    }),
    nextPass: assign({ progress: () => 0, pending: () => 0, passes: ({ context }) => context.passes + 1 }),
  },
}).createMachine({
  id: 'criu_restore',
  context: ({ input }) => ({
    pid: input.pid,
    pids: input.pids ?? [input.pid],
    progress: 0,
    pending: 0,
    passes: 0,
    activated_in: null,
    from_dump: input.fromDump ?? false,
    restore_ioctl_ret: null,
  }),
  initial: 'init',
  states: {
    /** cr_plugin_init(RESTORE) + RESTORE_INIT (spec §9.5 step 1). */
    init: { on: { ROOT_TASK: 'rootTask' } },
    rootTask: { on: { PREPARE_NAMESPACES: 'prepareNamespaces' } },
    prepareNamespaces: { on: { POST_FORKING: 'forking' } },
    /**
     * CR_STATE_FORKING: the master runs POST_FORKING (spec §9.5 step 2); the first task's first
     * RESTORE_EXT_FILE is its /dev/kfd, or, for a task without one, a render node (which fails:
     * no GPU map in that task, -ENODEV), a dma-buf or a file another task restores, which
     * nothing can have published yet (a retry). No other file can be restored first.
     */
    forking: {
      on: {
        KFD_FILE_RESTORED: { target: 'restoreFiles', actions: 'restored' },
        FILE_RETRY: { target: 'restoreFiles', actions: 'retry' },
        FILE_FAILED: { target: 'failed', actions: 'restoreIoctlFailed' },
      },
    },
    /** CR_STATE_RESTORE, prepare_fds in each task: RESTORE_EXT_FILE in passes (spec §9.3 retry). */
    restoreFiles: {
      on: {
        KFD_FILE_RESTORED: { target: 'restoreFiles', actions: 'restored' },
        FILE_RESTORED: { target: 'restoreFiles', actions: 'restored' },
        FILE_RETRY: { target: 'restoreFiles', actions: 'retry' },
        FILE_FAILED: { target: 'failed', actions: 'restoreIoctlFailed' },
        GPU_ACTIVATED: { target: 'restoreFiles', actions: 'activated' },
        PASS_END: [
          { guard: 'allDone', target: 'updateVmaMap' },
          { guard: 'progressed', target: 'restoreFiles', actions: 'nextPass' },
          { guard: 'stuck', target: 'failed' },
        ],
      },
    },
    /** open_vmas → UPDATE_VMA_MAP for each plugin VMA (spec §9.5 step 4). */
    updateVmaMap: { on: { UPDATE_VMA_MAP: 'restorer' } },
    /** The restorer PIE moves VMAs to their final addresses (spec §9.5 step 5). */
    restorer: { on: { RESTORER: 'restoreSigchld' } },
    restoreSigchld: { on: { RESTORE_SIGCHLD: 'restoreCreds' } },
    restoreCreds: { on: { RESTORE_CREDS: 'complete' } },
    complete: { on: { COMPLETE: 'resumeDevicesLate' } },
    /** RESUME_DEVICES_LATE: KFD RESUME by pid (spec §9.5 step 7, §9.6). */
    resumeDevicesLate: {
      on: {
        RESUMED: 'resumed',
        RESUME_FAILED: 'failed',
        GPU_ACTIVATED: { target: 'resumeDevicesLate', actions: 'activated' },
      },
    },
    /** RESUME done; queues run once the userptr restore worker has run (spec §5.5). */
    resumed: { on: { USERPTR_WORKER: 'done' } },
    /** Kept (not final) so that invariants and reports can read the outcome and activated_in. */
    done: {},
    failed: {},
  },
});
