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
 */
import type { CriuRestoreContext } from '../../machines/criu/restore.js';
import { KFD_CRIU_OP, MAKE_HANDLE } from '../uapi/index.js';
import { canSend, contextOf, createObject, inState, send } from '../world/objects.js';
import type { CallResult } from '../world/step.js';
import type { World } from '../world/types.js';
import { taskOf } from '../world/world.js';
import type { ImageDir, KfdImageSet, PageContent } from './images/index.js';
import { NO_GEM_HANDLE } from './images/index.js';
import { type DumpedTask, gpuActivated, Issuer, kfdBoIndex, type ProcessMemory } from './orchestrate-common.js';
import { restoreDrmFile } from './restore-drm.js';

export interface RestoreOptions {
  /** A one-task restore: the restored task's pid (default: the pid saved in the KFD image). */
  pid?: number;
  /** The CRIU master (issues RESUME). */
  criu: number;
  /** user gpu_id → local actual gpu_id (default identity; see setRestoreGpuMaps). */
  gpuMap?: ReadonlyMap<number, number>;
  /** Process memory CRIU core restores (userptr BO pages; DumpResult.memory). */
  memory?: readonly ProcessMemory[];
  /** The tasks and their files (DumpResult.tasks); default one task holding every image. */
  tasks?: readonly DumpedTask[];
  /** The order in which the tasks take their turns (pids; default the tasks' order). */
  order?: readonly number[];
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

/** What the plugin holds inside one restored task. */
export class TaskRestore {
  /** actual gpu id → render fd the plugin opened in the task. */
  readonly drmFdOf = new Map<number, number>();
  /** dma-buf fds the restore made in the task (closed at the end unless the task keeps them). */
  readonly dmabufFds = new Set<number>();
  /** render file id → handles restored (record_completed_work). */
  readonly done = new Map<number, Set<number>>();
  /** dma-buf fds given to a dma-buf file of the task. */
  readonly usedDmabuf = new Set<number>();
  /** `${render file id}:${handle}` → the dma-buf fd of a BO the task created (its contents are written through it). */
  readonly createdFd = new Map<string, number>();
  /** GEM handle → restored render fd holding it. */
  readonly handleFile = new Map<number, number>();
  /** original fd → restored fd. */
  readonly fds: Record<number, number> = {};
  /** files still to restore: [CRIU file id, original fd, restoring it (true) or receiving it]. */
  pending: { id: number; fd: number; master: boolean }[] = [];
  kfdRestored = false;
  /** /dev/kfd files the task restored (RESUME_DEVICES_LATE resumes it). */
  kfdFiles = 0;
  constructor(
    readonly pid: number,
    readonly origPid: number,
  ) {}
}

/** The tree restore: the shared table and the stage object. */
export class TreeRestore {
  readonly x: Issuer;
  readonly obj: string;
  /** RESTORE_INIT's shared table: GEM handle → the published dma-buf fd and its task. */
  readonly published = new Map<number, { pid: number; fd: number }>();
  /** CRIU file id → the task and fd that restored it (for the tasks that share it). */
  readonly restoredFile = new Map<number, { pid: number; fd: number }>();
  /**
   * Tasks whose KFD RESTORE has run: only they wait for RESUME. A task whose /dev/kfd is open
   * but not RESTOREd yet has a kfd_process outside the RESTORE → RESUME block that is not an
   * activated restored process.
   */
  readonly kfdRestoredPids = new Set<number>();
  constructor(
    readonly w: World,
    readonly images: ImageDir,
    readonly o: RestoreOptions,
    root: number,
    pids: number[],
  ) {
    this.x = new Issuer(w);
    this.obj = createObject(w, 'criu.restore', { pid: root, pids });
  }
  map(u: number): number {
    return this.o.gpuMap?.get(u) ?? u;
  }
  event(type: 'FILE_RESTORED' | 'FILE_RETRY' | 'KFD_FILE_RESTORED' | 'FILE_FAILED' | 'PASS_END'): void {
    send(this.w, this.obj, { type });
  }
  /** node_get_drm_render_device: the task's render fd of a GPU, opened once. */
  openDrm(t: TaskRestore, actual: number): number {
    const have = t.drmFdOf.get(actual);
    if (have !== undefined) return have;
    const g = this.w.topology.gpus.find((q) => q.gpu_id === actual);
    if (!g) return -1;
    const r = this.x.issue('RESTORE_EXT_FILE', t.pid, 'open', undefined, { path: `/dev/dri/renderD${g.render_minor}` });
    t.drmFdOf.set(actual, r.out.fd as number);
    return r.out.fd as number;
  }
  /**
   * fdstore_get: an fd in task `t` of the dma-buf published under `handle` — the publisher's
   * own fd, or one `pidfd_getfd` takes from the publishing task. undefined: not published yet.
   */
  fetch(t: TaskRestore, handle: number): CallResult | { ret: 0; fd: number } | undefined {
    const p = this.published.get(handle);
    if (!p) return undefined;
    if (p.pid === t.pid) return { ret: 0, fd: p.fd };
    const r = this.x.issue('RESTORE_EXT_FILE', t.pid, 'pidfd_getfd', undefined, { pid: p.pid, targetfd: p.fd });
    if (r.ret === 0) t.dmabufFds.add(r.out.fd as number);
    return r.ret === 0 ? { ret: 0, fd: r.out.fd as number } : r;
  }
  /** amdgpu_plugin_resume_devices_late: a fresh /dev/kfd of the CRIU master, CRIU_OP(RESUME, pid). */
  resume(stage: string, pid: number): CallResult {
    const { x, o } = this;
    const own = x.issue(stage, o.criu, 'open', undefined, { path: '/dev/kfd' });
    const r = x.issue(stage, o.criu, 'AMDKFD_IOC_CRIU_OP', own.out.fd as number, { op: 'RESUME', pid });
    x.issue(stage, o.criu, 'close', undefined, { fd: own.out.fd });
    return r;
  }

  /** RESTORE_EXT_FILE for /dev/kfd (spec §9.5 step 3): a failure or the kfd fd. */
  restoreKfd(t: TaskRestore, k: KfdImageSet): string | number {
    const { x, w } = this;
    const pid = t.pid;
    const open = x.issue('RESTORE_EXT_FILE', pid, 'open', undefined, { path: '/dev/kfd' });
    if (open.ret < 0 || typeof open.out.fd !== 'number') return `open /dev/kfd returned ${open.ret}`;
    const kfdFd = open.out.fd;
    const gpus = k.kfd.device_entries.filter((d) => d.gpu_id !== 0);
    for (const d of gpus)
      if (!w.topology.gpus.some((g) => g.gpu_id === this.map(d.gpu_id))) return 'Failed to map GPUs';
    // the arguments as the schema decodes them (criuArgsSchema's fields in order; u64 fields as
    // bigints, priv_data a buffer of its own): Issuer takes them as they are, no decoding per bucket
    const r = x.issue('RESTORE_EXT_FILE', pid, 'AMDKFD_IOC_CRIU_OP', kfdFd, {
      devices: gpus.map((d) => ({
        user_gpu_id: d.gpu_id,
        actual_gpu_id: this.map(d.gpu_id),
        drm_fd: this.openDrm(t, this.map(d.gpu_id)),
        pad: 0,
      })),
      bos: k.kfd.bo_entries.map((b) => ({
        addr: b.addr,
        size: b.size,
        offset: b.offset,
        restored_offset: 0n,
        gpu_id: b.gpu_id,
        alloc_flags: b.alloc_flags,
        dmabuf_fd: 0xffffffff,
        pad: 0,
      })),
      priv_data: Uint8Array.from(k.kfd.priv_data),
      priv_data_size: null,
      num_devices: null,
      num_bos: null,
      num_objects: k.kfd.num_of_objects,
      pid: 0,
      op: KFD_CRIU_OP.RESTORE,
    });
    if (r.ret !== 0) return `Restore ioctl failed (${r.ret})`;
    this.kfdRestoredPids.add(pid);
    const out = (r.out.bos as { dmabuf_fd: number }[] | undefined) ?? [];
    k.kfd.bo_entries.forEach((b, i) => {
      const dfd = out[i]?.dmabuf_fd ?? 0xffffffff;
      if (dfd !== 0xffffffff) t.dmabufFds.add(dfd);
      // store_dmabuf_fd: publish for render-node importers of any task (spec §9.5 step 3.7)
      if (b.handle !== NO_GEM_HANDLE && dfd !== 0xffffffff && !this.published.has(b.handle))
        this.published.set(b.handle, { pid, fd: dfd });
    });
    this.restoreContents(t, k, kfdFd);
    return kfdFd;
  }

  /** restore_bo_data (SDMA write, spec §9.5 step 3.8) and CRIU core's userptr pages, as gpu_write calls. */
  restoreContents(t: TaskRestore, k: KfdImageSet, kfdFd: number): void {
    const { x, w } = this;
    // the BOs something is written to: a saved page that is not 0, or CRIU core's memory
    const hasPage = (c: PageContent | undefined) => {
      for (const p in c) if (c[p as unknown as number] !== 0) return true;
      return false;
    };
    const memory = (this.o.memory ?? []).filter((m) => m.pid === t.origPid);
    const written = k.kfd.bo_entries.filter((_b, i) => hasPage(k.contents?.[i]));
    const index = kfdBoIndex(w, t.pid, [...written, ...memory]);
    k.kfd.bo_entries.forEach((b, i) => {
      const content = k.contents?.[i];
      const found = content && index.get(b.gpu_id, b.addr);
      if (!content || !found) return;
      const handle = MAKE_HANDLE(b.gpu_id, found.idr);
      for (const [page, value] of Object.entries(content))
        if (value !== 0)
          x.issue('RESTORE_EXT_FILE', t.pid, 'gpu_write', kfdFd, { handle, page: Number(page), value, tt: 0, obj: 0 });
    });
    // CRIU core's premapped private memory: the userptr BOs' pages (modelled as gpu_write)
    for (const m of memory) {
      const found = index.get(m.gpu_id, m.addr);
      if (!found) continue;
      const handle = MAKE_HANDLE(m.gpu_id, found.idr);
      for (const [page, value] of Object.entries(m.content))
        if (value !== 0)
          x.issue('CRIU memory', t.pid, 'gpu_write', kfdFd, { handle, page: Number(page), value, tt: 0, obj: 0 });
    }
  }

  /** amdgpu_plugin_dmabuf_restore: the published dma-buf's fd, or retry (spec §9.8). */
  restoreDmabuf(t: TaskRestore, h: number): string | number | undefined {
    const p = this.published.get(h);
    if (!p) return undefined;
    let f: number | undefined;
    if (p.pid !== t.pid || !t.usedDmabuf.has(p.fd)) {
      const r = this.fetch(t, h)!;
      if (r.ret !== 0) return `pidfd_getfd returned ${r.ret}`;
      f = (r as { fd: number }).fd;
    } else {
      // fdstore_get gives each dma-buf file its own fd of the stored dma-buf; the model has no
      // dup, so a second fd of one dma-buf is PRIME_HANDLE_TO_FD of its handle (same dma-buf,
      // a new fd) on the render file that holds the handle, once that file is restored
      const drm = t.handleFile.get(h);
      if (drm === undefined) return undefined;
      const e = this.x.issue('RESTORE_EXT_FILE', t.pid, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', drm, { handle: h });
      if (e.ret !== 0) return `PRIME_HANDLE_TO_FD returned ${e.ret}`;
      f = e.out.fd as number;
    }
    t.usedDmabuf.add(f);
    return f;
  }

  /** A file another task restored: take it with pidfd_getfd (CRIU sends it over a unix socket). */
  receive(t: TaskRestore, id: number): string | number | undefined {
    const from = this.restoredFile.get(id);
    if (!from) return undefined;
    const r = this.x.issue('RESTORE_EXT_FILE', t.pid, 'pidfd_getfd', undefined, { pid: from.pid, targetfd: from.fd });
    return r.ret === 0 ? (r.out.fd as number) : `pidfd_getfd returned ${r.ret}`;
  }

  /** One pending file of a task: its fd, a failure, or undefined (retry). */
  restoreFile(t: TaskRestore, p: { id: number; master: boolean }): string | number | undefined {
    if (!p.master) return this.receive(t, p.id);
    const rd = this.images.renderD.find((r) => r.id === p.id);
    if (rd) return restoreDrmFile(this, t, rd);
    const d = this.images.dmabuf.find((r) => r.id === p.id);
    return d ? this.restoreDmabuf(t, d.dmabuf.gem_handle) : `no image for file id ${p.id}`;
  }

  /** One task's turn in a pass: its /dev/kfd first (spec §9.5 step 3), then its pending files. */
  turn(t: TaskRestore, early: boolean): { failure: string | null; progress: number } {
    let progress = 0;
    if (!t.kfdRestored) {
      t.kfdRestored = true;
      for (const p of t.pending.filter((q) => q.master && this.images.kfd.some((k) => k.id === q.id))) {
        const r = this.restoreKfd(
          t,
          this.images.kfd.find((k) => k.id === p.id)!,
        );
        if (typeof r === 'string') return { failure: r, progress };
        this.fileDone(t, p, r);
        t.kfdFiles++;
        this.event('KFD_FILE_RESTORED');
        progress++;
        if (early) {
          this.resume('RESTORE_EXT_FILE', t.pid);
          this.x.issue('RESTORE_EXT_FILE', undefined, 'kfd.restore_userptr_worker', undefined, { pid: t.pid });
        }
      }
      t.pending = t.pending.filter((q) => !(q.master && this.images.kfd.some((k) => k.id === q.id)));
    }
    const again: typeof t.pending = [];
    for (const p of t.pending) {
      const r = this.restoreFile(t, p);
      if (typeof r === 'string') return { failure: r, progress };
      if (r === undefined) {
        again.push(p);
        this.event('FILE_RETRY');
      } else {
        this.fileDone(t, p, r);
        this.event('FILE_RESTORED');
        progress++;
      }
    }
    t.pending = again;
    return { failure: null, progress };
  }

  fileDone(t: TaskRestore, p: { id: number; fd: number; master: boolean }, fd: number): void {
    t.fds[p.fd] = fd;
    if (p.master) this.restoredFile.set(p.id, { pid: t.pid, fd });
  }
}

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
  const res = (failure: string | null): RestoreResult => ({
    ok: failure === null,
    failure,
    object: r.obj,
    pid: root,
    calls: r.x.calls,
    fds: all[0]?.fds ?? {},
    tasks: all.map((t) => ({ pid: t.pid, fds: t.fds })),
  });
  const failed = (why: string) => {
    r.event('FILE_FAILED');
    return res(why);
  };
  // After KFD RESTORE a process waits for RESUME (kfd_process alive.mmu.blocked, queues
  // evicted); note the stage in which that ends (invariant criu.resume-late, spec §9.6).
  r.x.onIssued = () => {
    if (r.kfdRestoredPids.size === 0 || contextOf<CriuRestoreContext>(w, r.obj).activated_in !== null) return;
    const ev = { type: 'GPU_ACTIVATED' as const, stage: String(w.objects[r.obj]!.value) };
    let active = false;
    for (const pid of r.kfdRestoredPids) if ((active = gpuActivated(w, pid))) break;
    if (active && canSend(w, r.obj, ev)) send(w, r.obj, ev);
  };
  const early = w.variants.resume === 'at-restore-file';
  send(w, r.obj, { type: 'ROOT_TASK' });
  for (const t of tasks) taskOf(w, t.pid);
  send(w, r.obj, { type: 'PREPARE_NAMESPACES' });
  send(w, r.obj, { type: 'POST_FORKING' });
  if (typeof planned === 'string') return failed(planned);
  if (images.kfd.length === 0) return failed('no KFD image');
  // CR_STATE_RESTORE: every task's RESTORE_EXT_FILE calls, in passes (CRIU's retry loop)
  for (;;) {
    let progress = 0;
    for (const t of tasks) {
      const turn = r.turn(t, early);
      if (turn.failure) return failed(turn.failure);
      progress += turn.progress;
    }
    const left = tasks.some((t) => t.pending.length > 0);
    if (left || inState(w, r.obj, 'restoreFiles')) r.event('PASS_END');
    if (!left) break;
    if (progress === 0) return res('RESTORE_EXT_FILE made no progress in a full pass');
  }
  // "finally close the dmabuf fds in the task" (spec §9.5 step 3.8); those the task keeps as
  // its own dma-buf fds stay
  for (const t of tasks) {
    const kept = new Set(Object.values(t.fds));
    for (const f of [...t.dmabufFds].sort((a, b) => a - b))
      if (!kept.has(f)) r.x.issue('RESTORE_EXT_FILE', t.pid, 'close', undefined, { fd: f });
  }
  for (const s of ['UPDATE_VMA_MAP', 'RESTORER', 'RESTORE_SIGCHLD', 'RESTORE_CREDS', 'COMPLETE'] as const)
    send(w, r.obj, { type: s });
  return resumeLate(r, tasks, early, res);
}

/** RESUME_DEVICES_LATE for each task with a KFD process, then the userptr worker (spec §9.5 step 7). */
function resumeLate(
  r: TreeRestore,
  tasks: TaskRestore[],
  early: boolean,
  res: (f: string | null) => RestoreResult,
): RestoreResult {
  const gpuTasks = tasks.filter((t) => t.kfdFiles > 0);
  if (!early)
    for (const t of gpuTasks) {
      const rr = r.resume('RESUME_DEVICES_LATE', t.pid);
      if (rr.ret !== 0) {
        send(r.w, r.obj, { type: 'RESUME_FAILED' });
        return res(
          `RESUME returned ${rr.ret} for pid ${t.pid} (CRIU only logs this; the task continues with its GPU queues stopped, spec §9.5 step 7)`,
        );
      }
    }
  send(r.w, r.obj, { type: 'RESUMED' });
  if (!early)
    for (const t of gpuTasks)
      r.x.issue('RESUME_DEVICES_LATE', undefined, 'kfd.restore_userptr_worker', undefined, { pid: t.pid });
  send(r.w, r.obj, { type: 'USERPTR_WORKER' });
  return res(null);
}
