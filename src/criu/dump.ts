/**
 * CRIU dump of a process tree with the amdgpu plugin (spec §9.4, §9.8), driving the
 * `criu.dump` stage machine (machines/criu/dump.ts) and issuing every ioctl through the
 * handlers. CRIU dumps the tasks one after the other (`for_each_pstree_item(dump_one_task)`)
 * in one dumper process, so the plugin's bookkeeping spans the tree: one shared-BO list
 * (`record_shared_bo`), one list of deferred dma-buf fds (`dmabuf_list`, retried after every
 * render-node file of any task: `try_dump_dmabuf_list`), and one DUMP_DEVICES_LATE after the
 * last task that unpauses every /dev/kfd file and fails if a dma-buf is still deferred
 * (`post_dump_dmabuf_check`; checkpoint-restore/criu plugins/amdgpu/amdgpu_plugin_dmabuf.c).
 *
 * CRIU file ids: one per open file (a file several tasks hold is dumped once); the model
 * numbers the first task's files by their fd and the later tasks' new files after the
 * highest id so far. Which task holds which id is CRIU core's fdinfo (DumpResult.tasks).
 *
 * Modelling choices: the SDMA copy of BO contents reads the GEM content (a read changes
 * nothing); dma-buf fds are matched to their exporting render-node file through the world's
 * prime tables (what drmPrimeFDToHandle on each dumped DRM fd finds).
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import { KFD_IOC_ALLOC_MEM_FLAGS } from '../uapi/index.js';
import { createObject, send } from '../world/objects.js';
import type { OpenFile, World } from '../world/types.js';
import { liveTask } from '../world/world.js';
import type { CriuKfd, DrmBoEntry, ImageDir, PageContent } from './images/index.js';
import { NO_GEM_HANDLE } from './images/index.js';
import { kfdBoHasPages } from './images/dir.js';
import { checkpointArgs } from './amdgpu-calls.js';
import {
  deviceEntry,
  type DumpedTask,
  type DumpResult,
  Issuer,
  KFD_MIN,
  kfdBoIndex,
  type ProcessMemory,
} from './orchestrate-common.js';

type Bucket = { addr: bigint; size: bigint; offset: bigint; gpu_id: number; alloc_flags: number; dmabuf_fd: number };

/** The plugin's state during one dump of a tree (its static lists, spec §9.4, §9.8). */
class TreeDump {
  readonly x: Issuer;
  readonly obj: string;
  readonly images: ImageDir = { kfd: [], renderD: [], dmabuf: [] };
  readonly memory: ProcessMemory[] = [];
  readonly tasks: DumpedTask[] = [];
  /** shared-BO list: gem id → GEM handle of the first dumped render-node file holding it (record_shared_bo). */
  readonly shared = new Map<string, number>();
  /** gem id → the KFD bucket whose dma-buf it is (save_bos: handle = get_gem_handle). */
  readonly kfdGemHandle = new Map<string, { image: number; bo: number }>();
  /** dma-buf fds waiting for their exporter's render-node file (dmabuf_list). */
  readonly deferred: { id: number; gem: string }[] = [];
  /** /dev/kfd files dumped (DUMP_DEVICES_LATE unpauses them), and those PROCESS_INFO paused. */
  readonly kfdRefs: { pid: number; fd: number }[] = [];
  readonly paused: { pid: number; fd: number }[] = [];
  /** open file id → CRIU file id. */
  readonly ids = new Map<string, number>();

  constructor(
    readonly w: World,
    readonly criu: number,
    readonly pids: readonly number[],
  ) {
    this.x = new Issuer(w);
    this.obj = createObject(w, 'criu.dump', { pid: pids[0] ?? 0, pids: [...pids] });
  }

  result(failure: string | null): DumpResult {
    const { obj: object, images, memory, tasks } = this;
    return { ok: failure === null, failure, object, images, memory, calls: this.x.calls, tasks };
  }

  fail(why: string): DumpResult {
    send(this.w, this.obj, { type: 'FILE_FAILED' });
    // The plugin leaves them paused (spec §9.4); the dump-abort "unpause" variant unpauses them as it gives up.
    if (this.w.variants['dump-abort'] === 'unpause')
      for (const ref of this.paused)
        this.x.issue('dump abort', this.criu, 'AMDKFD_IOC_CRIU_OP', ref, { op: 'UNPAUSE' });
    return this.result(why);
  }

  /** A CRIU file id for a file first seen now. */
  newId(taskIndex: number, fd: number): number {
    if (taskIndex === 0) return fd;
    let max = -1;
    for (const id of this.ids.values()) max = Math.max(max, id);
    return max + 1;
  }

  matchDeferred(): number {
    let n = 0;
    for (let i = this.deferred.length - 1; i >= 0; i--) {
      const d = this.deferred[i]!;
      const h = this.shared.get(d.gem);
      if (h === undefined) continue;
      this.images.dmabuf.push({ id: d.id, dmabuf: { gem_handle: h } });
      this.deferred.splice(i, 1);
      n++;
    }
    return n;
  }

  /** HANDLE_DEVICE_VMA, then DUMP_EXT_FILE for each plugin fd of the task; a failure or null. */
  dumpOne(taskIndex: number, pid: number): string | null {
    const task = liveTask(this.w, pid)!;
    // HANDLE_DEVICE_VMA: the model's device VMAs are all /dev/kfd or render nodes (accepted).
    send(this.w, this.obj, { type: 'VMA_SCAN_DONE' });
    const fdinfo: DumpedTask = { pid, fds: [] };
    this.tasks.push(fdinfo);
    const fds = Object.keys(task.fds)
      .map(Number)
      .sort((a, b) => a - b);
    for (const fd of fds) {
      const file = this.w.files[task.fds[fd]!]!;
      if (file.kind !== 'kfd' && file.kind !== 'drm' && file.kind !== 'dmabuf') continue;
      const seen = this.ids.get(file.id);
      if (seen !== undefined) {
        // a file another task holds too: CRIU dumps it once, each task's fdinfo names its id
        fdinfo.fds.push({ fd, id: seen });
        continue;
      }
      const id = this.newId(taskIndex, fd);
      this.ids.set(file.id, id);
      fdinfo.fds.push({ fd, id });
      const why =
        file.kind === 'kfd'
          ? this.dumpKfd(pid, fd, id)
          : file.kind === 'drm'
            ? this.dumpDrm(pid, fd, id, file)
            : this.dumpDmabuf(id, file);
      if (why !== null) return why;
    }
    return null;
  }

  /** amdgpu_plugin_dump_file for /dev/kfd (spec §9.4 d–i). */
  dumpKfd(pid: number, fd: number, id: number): string | null {
    const { x, w, criu } = this;
    const ref = { pid, fd };
    // kernel_supports_criu: GET_VERSION on CRIU's own /dev/kfd (spec §9.4 d)
    const own = x.issue('DUMP_EXT_FILE', criu, 'open', undefined, { path: '/dev/kfd' });
    const v = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_GET_VERSION', own.out.fd as number, {});
    x.issue('DUMP_EXT_FILE', criu, 'close', undefined, { fd: own.out.fd });
    const major = v.out.major_version as number;
    const minor = v.out.minor_version as number;
    if (v.ret !== 0 || major < KFD_MIN.major || (major === KFD_MIN.major && minor < KFD_MIN.minor))
      return `KFD ioctl version ${major}.${minor} < 1.8`;
    const info = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_CRIU_OP', ref, { op: 'PROCESS_INFO' });
    if (info.ret !== 0) return `PROCESS_INFO returned ${info.ret}`;
    this.paused.push(ref);
    const c = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_CRIU_OP', ref, checkpointArgs(info.out));
    if (c.ret !== 0) return `CHECKPOINT returned ${c.ret}`;
    const devices = c.out.devices as { user_gpu_id: number; actual_gpu_id: number }[];
    const buckets = c.out.bos as Bucket[];
    const { bo_entries, contents } = this.saveBos(pid, id, buckets);
    // the dma-buf fds CHECKPOINT installed in CRIU are closed after the content copy
    for (const b of buckets)
      if (b.dmabuf_fd !== 0xffffffff) x.issue('DUMP_EXT_FILE', criu, 'close', undefined, { fd: b.dmabuf_fd });
    const kfd: CriuKfd = {
      pid,
      num_of_gpus: devices.length,
      num_of_cpus: 0,
      device_entries: devices.map((d, i) => deviceEntry(w, i + 1, d.user_gpu_id, d.actual_gpu_id)),
      num_of_bos: BigInt(bo_entries.length),
      bo_entries,
      num_of_objects: info.out.num_objects as number,
      shared_mem_size: 0n,
      shared_mem_magic: 0,
      priv_data: c.out.priv_data as Uint8Array,
    };
    this.images.kfd.push({ id, kfd, contents });
    this.kfdRefs.push(ref);
    send(w, this.obj, { type: 'KFD_FILE_DUMPED' });
    return null;
  }

  /** save_bos: the bo entries, their contents (SDMA read, spec §9.4 h, §9.7), userptr memory. */
  saveBos(pid: number, id: number, buckets: Bucket[]) {
    const w = this.w;
    const contents: (PageContent | undefined)[] = [];
    const index = kfdBoIndex(w, pid);
    const bo_entries = buckets.map((b, i) => {
      const found: { bo: BoContext } | undefined = index.get(b.gpu_id, b.addr);
      contents.push(found && kfdBoHasPages(b.alloc_flags) ? { ...w.gems[found.bo.gem]!.content } : undefined);
      if (found && (b.alloc_flags & KFD_IOC_ALLOC_MEM_FLAGS.USERPTR) !== 0) {
        const content = w.gems[found.bo.gem]?.content ?? {};
        if (Object.keys(content).length)
          this.memory.push({ pid, gpu_id: b.gpu_id, addr: b.addr, content: { ...content } });
      }
      if (found) this.kfdGemHandle.set(found.bo.gem, { image: id, bo: i });
      return {
        addr: b.addr,
        size: b.size,
        offset: b.offset,
        alloc_flags: b.alloc_flags,
        gpu_id: b.gpu_id,
        handle: NO_GEM_HANDLE,
      };
    });
    return { bo_entries, contents };
  }

  /** amdgpu_plugin_drm_dump_file (spec §9.8 "Dump of a render-node fd"). */
  dumpDrm(pid: number, fd: number, id: number, file: Extract<OpenFile, { kind: 'drm' }>): string | null {
    const { x, w, criu } = this;
    const ref = { pid, fd };
    let list = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', ref, { num_entries: 8 });
    if (list.ret !== 0 && list.ret !== -22) return `GEM_LIST_HANDLES returned ${list.ret}`;
    if (list.ret === 0 && (list.out.num_entries as number) > 8) {
      list = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', ref, {
        num_entries: list.out.num_entries,
      });
      if (list.ret !== 0) return `GEM_LIST_HANDLES returned ${list.ret}`;
    }
    const entries = list.ret === 0 ? ((list.out.entries as Record<string, unknown>[] | undefined) ?? []) : [];
    const priv = w.drm?.[file.id];
    const bo_entries: DrmBoEntry[] = [];
    const contents: (PageContent | undefined)[] = [];
    for (const e of entries) {
      const handle = e.gem_handle as number;
      const r = this.drmBo(ref, e, priv?.object_idr[handle]);
      if (typeof r === 'string') return r;
      bo_entries.push(r.entry);
      contents.push(r.content);
    }
    const gpu = w.topology.gpus.find((g) => g.gpu_id === file.gpu_id)!;
    this.images.renderD.push({
      id,
      renderD: {
        gpu_id: file.gpu_id,
        id,
        drm_render_minor: gpu.render_minor,
        num_of_bos: BigInt(bo_entries.length),
        bo_entries,
      },
      contents,
    });
    send(w, this.obj, { type: 'DRM_FILE_DUMPED', matched: this.matchDeferred() });
    return null;
  }

  /** One handle of a render-node file: GEM_MMAP, GET_MAPPING_INFO, is_import, contents. */
  drmBo(
    ref: { pid: number; fd: number },
    e: Record<string, unknown>,
    gem: string | undefined,
  ): { entry: DrmBoEntry; content: PageContent | undefined } | string {
    const { x, w, criu } = this;
    const handle = e.gem_handle as number;
    const mm = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_MMAP', ref, { handle });
    if (mm.ret !== 0) return `GEM_MMAP returned ${mm.ret}`;
    const args = { handle, op: 'GET_MAPPING_INFO', num_entries: 8 };
    let info = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_OP', ref, args);
    if (info.ret === 0 && (info.out.num_entries as number) > 8)
      info = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_OP', ref, {
        ...args,
        num_entries: info.out.num_entries,
      });
    if (info.ret !== 0) return `GEM_OP(GET_MAPPING_INFO) returned ${info.ret}`;
    const vms = ((info.out.vm_entries as DrmBoEntry['vm_entries'] | undefined) ?? []).map((v) => ({ ...v }));
    const exporter = gem === undefined ? undefined : this.kfdGemHandle.get(gem);
    // is_import = IS_IMPORT || shared_bo_has_exporter(handle): the plugin's list is keyed by the
    // handle number, so another file's handle of the same BO counts only under the same number
    const isImport =
      ((e.flags as number) & 1) !== 0 ||
      exporter !== undefined ||
      (gem !== undefined && this.shared.get(gem) === handle);
    // the KFD BO's handle (get_gem_handle, spec §9.4 h): the first render file holding it names
    // it; a later one (another task's import under another number) must not rename it
    const kfdEntry = exporter && this.images.kfd.find((k) => k.id === exporter.image)!.kfd.bo_entries[exporter.bo]!;
    if (kfdEntry && kfdEntry.handle === NO_GEM_HANDLE) kfdEntry.handle = handle;
    if (gem !== undefined && !this.shared.has(gem)) this.shared.set(gem, handle);
    const entry: DrmBoEntry = {
      addr: vms.length ? vms[vms.length - 1]!.addr : 0n,
      size: e.size as bigint,
      offset: mm.out.addr_ptr as bigint,
      alloc_flags: e.alloc_flags as bigint,
      alignment: e.alignment as bigint,
      preferred_domains: Number(e.preferred_domains),
      handle,
      is_import: isImport ? 1 : 0,
      num_of_vms: vms.length,
      vm_entries: vms,
    };
    return { entry, content: gem !== undefined && !isImport ? { ...w.gems[gem]!.content } : undefined };
  }

  /** amdgpu_plugin_dmabuf_dump: matched to a dumped render-node file, else deferred (spec §9.8). */
  dumpDmabuf(id: number, file: Extract<OpenFile, { kind: 'dmabuf' }>): null {
    const h = this.shared.get(file.gem);
    if (h === undefined) {
      this.deferred.push({ id, gem: file.gem });
      send(this.w, this.obj, { type: 'DMABUF_DEFERRED' });
    } else {
      this.images.dmabuf.push({ id, dmabuf: { gem_handle: h } });
      send(this.w, this.obj, { type: 'DMABUF_DUMPED' });
    }
    return null;
  }

  /** DUMP_DEVICES_LATE: UNPAUSE every /dev/kfd file, then post_dump_dmabuf_check (spec §9.4 step 3). */
  devicesLate(): DumpResult {
    send(this.w, this.obj, { type: 'FILES_DONE' });
    for (const ref of this.kfdRefs) {
      const u = this.x.issue('DUMP_DEVICES_LATE', this.criu, 'AMDKFD_IOC_CRIU_OP', ref, { op: 'UNPAUSE' });
      if (u.ret !== 0) {
        send(this.w, this.obj, { type: 'UNPAUSE_FAILED' });
        return this.result(`UNPAUSE returned ${u.ret}`);
      }
    }
    send(this.w, this.obj, { type: 'UNPAUSED' });
    return this.result(this.deferred.length ? 'Not all dma buffers have been dumped' : null);
  }
}

/**
 * Dump the tasks `pids` of a process tree (the root first, as CRIU walks the pstree) as CRIU
 * with the amdgpu plugin does (spec §9.4): `criu` is the dumper (the tasks' ptrace parent).
 * An aborted dump leaves the queues paused.
 */
export function dumpTree(w: World, criu: number, pids: readonly number[]): DumpResult {
  const d = new TreeDump(w, criu, pids);
  // CRIU seizes and freezes the whole tree before it dumps any task
  const missing = pids.find((pid) => !liveTask(w, pid));
  if (missing !== undefined || pids.length === 0) {
    send(w, d.obj, { type: 'VMA_SCAN_FAILED' });
    return d.result(`no task ${missing ?? '(none given)'}`);
  }
  for (const [i, pid] of pids.entries()) {
    // the next task: its VMA scan and its files
    if (i > 0) send(w, d.obj, { type: 'TASK_DUMPED' });
    const why = d.dumpOne(i, pid);
    if (why !== null) return d.fail(why);
  }
  return d.devicesLate();
}

/** Dump one task (a tree of one). */
export function dumpTask(w: World, criu: number, pid: number): DumpResult {
  return dumpTree(w, criu, [pid]);
}
