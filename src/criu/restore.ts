/**
 * CRIU restore of a process tree with the amdgpu plugin, in CRIU's stages (spec §9.5, §9.8),
 * driving the `criu.restore` stage machine (machines/criu/restore.ts) and issuing every ioctl
 * through the handlers.
 *
 * Each restored task runs its own RESTORE_EXT_FILE calls (the plugin runs inside the task:
 * its render fds, completed-work list and dma-buf fds are the task's), while RESTORE_INIT's
 * shared table of published dma-bufs (GEM handle → fdstore entry) is one for the whole tree
 * (spec §9.5 step 1, §9.8 "Cross-process sharing"). CRIU restores the tasks concurrently; the
 * model runs them in passes, each pass giving every task (in the order asked for) a turn at
 * its pending files: /dev/kfd first, then render nodes and dma-buf fds. An import whose
 * exporter is not published yet, in this task or another, asks for a retry; a pass in which
 * no task makes progress fails (CRIU's `open_fdinfos` would wait for ever).
 *
 * Modelling choices: CRIU's fdstore (a socket in the CRIU master whose fds go over
 * SCM_RIGHTS) is the publishing task's fd: another task fetches it with `pidfd_getfd`. A file
 * several tasks hold is restored by the first of them (in dump order) and taken by the others
 * with `pidfd_getfd`, where CRIU sends it over a unix socket. docs/checkpoint-restore.md.
 *
 * The state the restore holds and the plugin's steps on it are restore-tree.ts; the /dev/kfd
 * file is restore-kfd.ts, a render-node file restore-drm.ts. This module plans the tasks and
 * runs CRIU's stages.
 */
import type { CriuRestoreContext } from '../../machines/criu/restore.js';
import { canSend, contextOf, inState, send } from '../world/objects.js';
import type { World } from '../world/types.js';
import { taskOf } from '../world/world.js';
import { handlesFetchedBy, type ImageDir } from './images/index.js';
import { type DumpedTask, gpuActivated, type Issuer, type ProcessMemory } from './orchestrate-common.js';
import type { RemapOptions } from './remap.js';
import { TaskRestore, TreeRestore } from './restore-tree.js';

export { TaskRestore, TreeRestore } from './restore-tree.js';

export interface RestoreOptions {
  /** A one-task restore: the restored task's pid (default: the pid saved in the KFD image). */
  pid?: number;
  /** The CRIU master (issues RESUME). */
  criu: number;
  /**
   * The KFD_*_CHECK switches of the plugin's GPU remapping (spec §9.10; default all enabled):
   * each KFD restore maps the image's GPUs onto the world's with `setRestoreGpuMaps`.
   */
  remap?: RemapOptions;
  /** Process memory CRIU core restores (userptr BO pages; DumpResult.memory). */
  memory?: readonly ProcessMemory[];
  /** The tasks and their files (DumpResult.tasks); default one task holding every image. */
  tasks?: readonly DumpedTask[];
  /** The order in which the tasks take their turns (pids; default the tasks' order). */
  order?: readonly number[];
  /** The images are a dump of this world, not read from a directory (criu.restore {dump}). */
  fromDump?: boolean;
}

export interface RestoreResult {
  ok: boolean;
  failure: string | null;
  object: string;
  /** The root task's pid. */
  pid: number;
  calls: OrchestratedCallList;
  /** Original fd (CRIU file id of a one-task dump) → fd of the restored root task. */
  fds: Record<number, number>;
  /** Every restored task: original fd → restored fd. */
  tasks: { pid: number; fds: Record<number, number> }[];
}

type OrchestratedCallList = Issuer['calls'];

/** The tasks of a restore with the images' files dealt out: who restores each file, who receives it. */
function planTasks(images: ImageDir, o: RestoreOptions): { tasks: TaskRestore[]; ordered: TaskRestore[] } | string {
  const single = images.kfd[0]?.kfd.pid ?? 0;
  const all = [...images.kfd, ...images.renderD, ...images.dmabuf].map((s) => s.id).sort((a, b) => a - b);
  const given = o.tasks ?? [{ pid: single, fds: all.map((id) => ({ fd: id, id })) }];
  const rename = given.length === 1 && o.pid !== undefined ? o.pid : undefined;
  const known = new Set(all);
  const master = new Set<number>();
  const tasks = given.map((g) => {
    const t = new TaskRestore(rename ?? g.pid, g.pid);
    for (const f of g.fds) {
      if (!known.has(f.id)) continue; // not a plugin file
      t.pending.push({ id: f.id, fd: f.fd, master: !master.has(f.id) });
      master.add(f.id);
    }
    return t;
  });
  const unowned = all.find((id) => !master.has(id));
  if (unowned !== undefined) return `image file id ${unowned} belongs to no restored task`;
  if (!o.order) return { tasks, ordered: tasks };
  const ordered = o.order.map((pid) => tasks.find((t) => t.pid === pid));
  if (ordered.some((t) => !t) || new Set(ordered).size !== tasks.length)
    return `order ${o.order.join(',')} is not an order of the tasks ${tasks.map((t) => t.pid).join(',')}`;
  return { tasks, ordered: ordered as TaskRestore[] };
}

/**
 * Restore images into `w` in CRIU's stages (spec §9.5): one task (the default) or the tasks
 * of a dumped tree (`o.tasks`, in the order `o.order`). With the `resume: "at-restore-file"`
 * variant RESUME and the userptr worker run right after each KFD restore, at RESTORE_EXT_FILE
 * (the design spec §9.6 explains is wrong).
 */
export function restoreImages(w: World, images: ImageDir, o: RestoreOptions): RestoreResult {
  const planned = planTasks(images, o);
  const all = typeof planned === 'string' ? [] : planned.tasks;
  const tasks = typeof planned === 'string' ? [] : planned.ordered;
  const root = all[0]?.pid ?? o.pid ?? images.kfd[0]?.kfd.pid ?? 0;
  const r = new TreeRestore(
    w,
    images,
    o,
    root,
    all.map((t) => t.pid),
  );
  const failure = runStages(r, typeof planned === 'string' ? planned : null, tasks);
  return {
    ok: failure === null,
    failure,
    object: r.obj,
    pid: root,
    calls: r.x.calls,
    fds: all[0]?.fds ?? {},
    tasks: all.map((t) => ({ pid: t.pid, fds: t.fds })),
  };
}

/** CRIU's stages from ROOT_TASK to the end of the restore: the failure, or null. */
function runStages(r: TreeRestore, planFailure: string | null, tasks: TaskRestore[]): string | null {
  const { w } = r;
  watchGpuActivation(r);
  const early = w.variants.resume === 'at-restore-file';
  send(w, r.obj, { type: 'ROOT_TASK' });
  for (const t of tasks) taskOf(w, t.pid);
  send(w, r.obj, { type: 'PREPARE_NAMESPACES' });
  send(w, r.obj, { type: 'POST_FORKING' });
  if (planFailure !== null) return fileFailed(r, planFailure);
  if (r.images.kfd.length === 0) return fileFailed(r, 'no KFD image');
  const failure = restoreFilePasses(r, tasks, early);
  if (failure !== null) return failure;
  closeDmabufFds(r, tasks);
  for (const s of ['UPDATE_VMA_MAP', 'RESTORER', 'RESTORE_SIGCHLD', 'RESTORE_CREDS', 'COMPLETE'] as const)
    send(w, r.obj, { type: s });
  return resumeLate(r, tasks, early);
}

/** A file could not be restored: the stage machine hears FILE_FAILED. */
function fileFailed(r: TreeRestore, why: string): string {
  r.event('FILE_FAILED');
  return why;
}

/**
 * After KFD RESTORE a process waits for RESUME (kfd_process alive.mmu.blocked, queues
 * evicted); note the stage in which that ends (invariant criu.resume-late, spec §9.6).
 */
function watchGpuActivation(r: TreeRestore): void {
  const { w } = r;
  r.x.onIssued = () => {
    if (r.kfdRestoredPids.size === 0 || contextOf<CriuRestoreContext>(w, r.obj).activated_in !== null) return;
    const ev = { type: 'GPU_ACTIVATED' as const, stage: String(w.objects[r.obj]!.value) };
    let active = false;
    for (const pid of r.kfdRestoredPids) if ((active = gpuActivated(w, pid))) break;
    if (active && canSend(w, r.obj, ev)) send(w, r.obj, ev);
  };
}

/** CR_STATE_RESTORE: every task's RESTORE_EXT_FILE calls, in passes (CRIU's retry loop). */
function restoreFilePasses(r: TreeRestore, tasks: TaskRestore[], early: boolean): string | null {
  for (;;) {
    let progress = 0;
    for (const t of tasks) {
      const turn = r.turn(t, early);
      if (turn.failure) return fileFailed(r, turn.failure);
      progress += turn.progress;
    }
    const left = tasks.some((t) => t.pending.length > 0);
    if (left || inState(r.w, r.obj, 'restoreFiles')) r.event('PASS_END');
    if (!left) return null;
    if (progress === 0) return `RESTORE_EXT_FILE made no progress in a full pass (${waiting(r, tasks)})`;
  }
}

/** The files a pass left waiting, and the GEM handles each waits for, to say in the failure which. */
function waiting(r: TreeRestore, tasks: readonly TaskRestore[]): string {
  const files = tasks.flatMap((t) =>
    t.pending.map((p) => {
      const handles = handlesFetchedBy(r.images, p.id).filter((h) => !r.published.has(h));
      const why = handles.length === 0 ? '' : `, GEM handle ${handles.join(', ')} not published`;
      return `pid ${t.pid} fd ${p.fd} (CRIU file id ${p.id}${why})`;
    }),
  );
  return `still waiting: ${files.join(', ')}`;
}

/**
 * "finally close the dmabuf fds in the task" (spec §9.5 step 3.8); those the task keeps as
 * its own dma-buf fds stay
 */
function closeDmabufFds(r: TreeRestore, tasks: TaskRestore[]): void {
  for (const t of tasks) {
    const kept = new Set(Object.values(t.fds));
    for (const f of [...t.dmabufFds].sort((a, b) => a - b))
      if (!kept.has(f)) r.x.issue('RESTORE_EXT_FILE', t.pid, 'close', undefined, { fd: f });
  }
}

/**
 * RESUME_DEVICES_LATE for each task with a KFD process, in pstree order whatever order the files
 * were restored in (for_each_pstree_item), then the userptr worker of each task RESUME reached
 * (spec §9.5 step 7). A failed RESUME is only logged by CRIU: the walk goes on to the next task;
 * the model ends the stage object in `failed` and reports the first failure.
 */
function resumeLate(r: TreeRestore, tasks: TaskRestore[], early: boolean): string | null {
  const gpuTasks = tasks.filter((t) => t.kfdFiles > 0).sort((a, b) => r.pids.indexOf(a.pid) - r.pids.indexOf(b.pid));
  const resumed: TaskRestore[] = [];
  let failure: string | null = null;
  if (!early)
    for (const t of gpuTasks) {
      const rr = r.resume('RESUME_DEVICES_LATE', t.pid);
      if (rr.ret === 0) resumed.push(t);
      else
        failure ??= `RESUME returned ${rr.ret} for pid ${t.pid} (CRIU only logs this; the task continues with its GPU queues stopped, spec §9.5 step 7)`;
    }
  if (!early)
    for (const t of resumed)
      r.x.issue('RESUME_DEVICES_LATE', undefined, 'kfd.restore_userptr_worker', undefined, { pid: t.pid });
  if (failure !== null) {
    send(r.w, r.obj, { type: 'RESUME_FAILED' });
    return failure;
  }
  send(r.w, r.obj, { type: 'RESUMED' });
  send(r.w, r.obj, { type: 'USERPTR_WORKER' });
  return null;
}
