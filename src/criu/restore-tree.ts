/**
 * What a CRIU restore with the amdgpu plugin holds (spec §9.5, §9.8; restore.ts runs it): per
 * restored task the plugin's render fds, dma-buf fds and files still to restore
 * (`TaskRestore`), and for the tree RESTORE_INIT's shared table of published dma-bufs, the
 * files restored so far and the `criu.restore` stage object (`TreeRestore`), whose methods are
 * the plugin's steps that use them: a task's turn in a pass, a dma-buf or shared file, RESUME.
 */
import { createObject, send } from '../world/objects.js';
import type { CallResult } from '../world/step.js';
import type { World } from '../world/types.js';
import type { ImageDir } from './images/index.js';
import { Issuer } from './orchestrate-common.js';
import type { RestoreOptions } from './restore.js';
import { restoreDrmFile } from './restore-drm.js';
import { restoreKfdFile } from './restore-kfd.js';

/** What the plugin holds inside one restored task. */
export class TaskRestore {
  /** actual gpu id → render fd the plugin opened in the task. */
  readonly drmFdOf = new Map<number, number>();
  /** dma-buf fds the restore made in the task (closed at the end unless the task keeps them). */
  readonly dmabufFds = new Set<number>();
  /** `${saved handle}:${render minor}` of the render-node BOs restored (record_completed_work). */
  readonly done = new Set<string>();
  /** dma-buf fds given to a dma-buf file of the task. */
  readonly usedDmabuf = new Set<number>();
  /** `${render file id}:${handle}` → the dma-buf fd of a BO the task created (its contents are written through it). */
  readonly createdFd = new Map<string, number>();
  /** The plugin's `restore_maps` in this task: user gpu_id → local gpu_id (filled by its KFD restore). */
  readonly restoreMaps = new Map<number, number>();
  /** GEM handle → restored render fd holding it. */
  readonly handleFile = new Map<number, number>();
  /** original fd → restored fd. */
  readonly fds: Record<number, number> = {};
  /** files still to restore: [CRIU file id, original fd, restoring it (true) or receiving it]. */
  pending: { id: number; fd: number; master: boolean }[] = [];
  kfdRestored = false;
  /** /dev/kfd files the task restored (RESUME_DEVICES_LATE resumes it). */
  kfdFiles = 0;
  /**
   * The original fd of the task's first /dev/kfd file, whose restore fills the plugin's
   * restore_maps in this task's process; CRIU opens a task's files in fd order.
   */
  kfdFd: number | undefined;
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
  /** What a failed CRIU_OP(RESTORE) returned: FILE_FAILED carries it to the stage machine. */
  restoreIoctlRet: number | null = null;
  constructor(
    readonly w: World,
    readonly images: ImageDir,
    readonly o: RestoreOptions,
    root: number,
    /** The tasks in pstree order (the dump's). */
    readonly pids: number[],
  ) {
    this.x = new Issuer(w);
    this.obj = createObject(w, 'criu.restore', { pid: root, pids, fromDump: o.fromDump === true });
  }
  /** `maps_get_dest_gpu(&restore_maps, u)`: the local gpu_id of user gpu_id `u` in task `t`, 0 none. */
  map(t: TaskRestore, u: number): number {
    return t.restoreMaps.get(u) ?? 0;
  }
  event(type: 'FILE_RESTORED' | 'FILE_RETRY' | 'KFD_FILE_RESTORED' | 'FILE_FAILED' | 'PASS_END'): void {
    if (type === 'FILE_FAILED' && this.restoreIoctlRet !== null)
      send(this.w, this.obj, { type, restore_ioctl_ret: this.restoreIoctlRet });
    else send(this.w, this.obj, { type });
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
  restoreFile(t: TaskRestore, p: { id: number; fd: number; master: boolean }): string | number | undefined {
    if (!p.master) return this.receive(t, p.id);
    const rd = this.images.renderD.find((r) => r.id === p.id);
    if (rd) {
      // amdgpu_plugin_restore_file: "this code will only work if this function is called for
      // /dev/kfd first as we assume restore_maps is already filled": a render file the task
      // opens before its /dev/kfd, or in a task without one, finds no map (-ENODEV).
      if (t.kfdFd === undefined || p.fd < t.kfdFd)
        return `no GPU map for render node ${rd.renderD.gpu_id} in pid ${t.pid}: its /dev/kfd is not restored before it (-ENODEV)`;
      return restoreDrmFile(this, t, rd);
    }
    const d = this.images.dmabuf.find((r) => r.id === p.id);
    return d ? this.restoreDmabuf(t, d.dmabuf.gem_handle) : `no image for file id ${p.id}`;
  }

  /** One task's turn in a pass: its /dev/kfd first (spec §9.5 step 3), then its pending files. */
  turn(t: TaskRestore, early: boolean): { failure: string | null; progress: number } {
    let progress = 0;
    if (!t.kfdRestored) {
      t.kfdRestored = true;
      const kfd = this.restoreKfdFiles(t, early);
      if (kfd.failure !== null) return kfd;
      progress = kfd.progress;
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

  /**
   * The task's /dev/kfd files, restored before its other files: how many, and the failure if one
   * fails. With `early` (the at-restore-file variant) RESUME and the userptr worker follow each.
   */
  restoreKfdFiles(t: TaskRestore, early: boolean): { failure: string | null; progress: number } {
    let progress = 0;
    for (const p of t.pending.filter((q) => q.master && this.images.kfd.some((k) => k.id === q.id))) {
      const r = restoreKfdFile(
        this,
        t,
        this.images.kfd.find((k) => k.id === p.id)!,
      );
      if (typeof r === 'string') return { failure: r, progress };
      this.fileDone(t, p, r);
      t.kfdFd ??= p.fd;
      t.kfdFiles++;
      this.event('KFD_FILE_RESTORED');
      progress++;
      if (early) {
        this.resume('RESTORE_EXT_FILE', t.pid);
        this.x.issue('RESTORE_EXT_FILE', undefined, 'kfd.restore_userptr_worker', undefined, { pid: t.pid });
      }
    }
    t.pending = t.pending.filter((q) => !(q.master && this.images.kfd.some((k) => k.id === q.id)));
    return { failure: null, progress };
  }

  fileDone(t: TaskRestore, p: { id: number; fd: number; master: boolean }, fd: number): void {
    t.fds[p.fd] = fd;
    if (p.master) this.restoredFile.set(p.id, { pid: t.pid, fd });
  }
}
