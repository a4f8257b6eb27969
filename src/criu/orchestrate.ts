/**
 * CRIU + amdgpu plugin orchestration (spec §9.3–§9.6, §9.8, §11.5): a dump of one task into
 * the plugin's images and a restore of those images, each driving its stage machine
 * (machines/criu/dump.ts, machines/criu/restore.ts) and issuing every ioctl as an ordinary
 * call through applyInPlace on the world it is given, so that the calls can be logged as
 * their own lines with `by` = the orchestration line (docs/log-format.md).
 *
 * Modelling choices (not ioctls in the model): the SDMA content copy of KFD BOs reads the
 * GEM content directly at dump (a read changes nothing) and writes it back with `gpu_write`
 * at restore; the VMA scan, UPDATE_VMA_MAP and the restorer's VMA moves are stage events
 * only (the model has no CPU VMAs); dma-buf fds are matched to their exporting render-node
 * file through the world's prime tables (what drmPrimeFDToHandle on each dumped DRM fd finds).
 */
import '../ioctls/all.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs, encodeField } from '../ioctls/schema.js';
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { CriuRestoreContext } from '../../machines/criu/restore.js';
import { KFD_IOC_ALLOC_MEM_FLAGS, MAKE_HANDLE } from '../uapi/index.js';
import { canSend, contextOf, createObject, inState, send } from '../world/objects.js';
import { applyInPlace, type CallResult } from '../world/step.js';
import type { FdRef, World } from '../world/types.js';
import { liveTask, pddHandles, taskOf } from '../world/world.js';
import type { CriuKfd, DrmBoEntry, ImageDir, KfdDeviceEntry, PageContent } from './images/index.js';
import { NO_GEM_HANDLE } from './images/index.js';
import { kfdBoHasPages } from './images/dir.js';

/** One call an orchestration issued: the call as the model received it and its result. */
export interface OrchestratedCall {
  pid?: number;
  call: string;
  fd?: FdRef;
  /** Arguments decoded by the call's schema. */
  args: Record<string, unknown>;
  ret: number;
  out: Record<string, unknown>;
  /** The CRIU stage / plugin hook that issued it. */
  stage: string;
}

/** Applies calls to a world in place and records them (the shape CallIssuer users expect). */
export class Issuer {
  readonly calls: OrchestratedCall[] = [];
  /** Called after every issued call. */
  onIssued: (() => void) | undefined;
  constructor(readonly world: World) {}

  issue(
    stage: string,
    pid: number | undefined,
    call: string,
    fd: FdRef | undefined,
    raw: Record<string, unknown> = {},
  ): CallResult {
    const def = callDef(call);
    if (!def) throw new Error(`no call ${call}`);
    const args = decodeArgs(def.args, raw, `${call}.args`);
    const c = { call, args, ...(pid === undefined ? {} : { pid }), ...(fd === undefined ? {} : { fd }) };
    const r = applyInPlace(this.world, c);
    this.calls.push({ ...c, ret: r.ret, out: r.out, stage });
    this.onIssued?.();
    return r;
  }
}

/** The images of a dump (ImageDir) plus what a restore needs that the images name indirectly. */
export interface DumpResult {
  ok: boolean;
  failure: string | null;
  /** The criu.dump object. */
  object: string;
  images: ImageDir;
  /**
   * Contents of userptr BOs: ordinary process memory, which CRIU core saves in its own pages
   * images, not the plugin (spec §9.7). Keyed by user gpu_id and address.
   */
  memory: ProcessMemory[];
  calls: OrchestratedCall[];
}

/** One userptr BO's pages as CRIU core dumps them (process memory). */
export interface ProcessMemory {
  gpu_id: number;
  addr: bigint;
  content: PageContent;
}

const KFD_MIN = { major: 1, minor: 8 };

function deviceEntry(w: World, node: number, userId: number, actualId: number): KfdDeviceEntry {
  const g = w.topology.gpus.find((x) => x.gpu_id === actualId)!;
  return {
    node_id: node,
    gpu_id: userId,
    cpu_cores_count: 0,
    simd_count: 4,
    mem_banks_count: 1,
    caches_count: 0,
    io_links_count: 0,
    max_waves_per_simd: 8,
    lds_size_in_kb: 64,
    gds_size_in_kb: 0,
    num_gws: 0,
    wave_front_size: 64,
    array_count: 1,
    simd_arrays_per_engine: 1,
    cu_per_simd_array: 1,
    simd_per_cu: 4,
    max_slots_scratch_cu: 32,
    vendor_id: 0x1002,
    device_id: 0x740f,
    domain: 0,
    drm_render_minor: g.render_minor,
    hive_id: 0n,
    num_sdma_engines: 2,
    num_sdma_xgmi_engines: 0,
    num_sdma_queues_per_engine: 8,
    num_cp_queues: 24,
    fw_version: 0,
    capability: 0,
    sdma_fw_version: 0,
    vram_public: g.large_bar ? 1 : 0,
    vram_size: g.vram_size,
    iolinks: [],
  };
}

/** A task's KFD BOs by user gpu id and address, with their idr handles (one pass over the pdds). */
type KfdBoIndex = Map<string, { bo: BoContext; idr: number }>;

const boKey = (userGpuId: number, addr: bigint) => `${userGpuId}:${addr}`;

/** Index the task's KFD BOs by (user gpu id, address); the lowest idr handle wins, as a scan in idr order finds. */
function kfdBoIndex(w: World, pid: number): KfdBoIndex {
  const index: KfdBoIndex = new Map();
  for (const p of liveTask(w, pid)?.pdds ?? []) {
    const user = contextOf<PddContext>(w, p).user_gpu_id;
    for (const [idr, id] of pddHandles(w, p)) {
      const bo = contextOf<BoContext>(w, id);
      const key = boKey(user, bo.va);
      if (!index.has(key)) index.set(key, { bo, idr });
    }
  }
  return index;
}

/**
 * Dump task `pid` as CRIU with the amdgpu plugin does (spec §9.4): `criu` is the dumper (the
 * task's ptrace parent). An aborted dump leaves the queues paused.
 */
export function dumpTask(w: World, criu: number, pid: number): DumpResult {
  const x = new Issuer(w);
  const obj = createObject(w, 'criu.dump', { pid });
  const images: ImageDir = { kfd: [], renderD: [], dmabuf: [] };
  const memory: ProcessMemory[] = [];
  const res = (failure: string | null): DumpResult => ({
    ok: failure === null,
    failure,
    object: obj,
    images,
    memory,
    calls: x.calls,
  });
  const task = liveTask(w, pid);
  if (!task) {
    send(w, obj, { type: 'VMA_SCAN_FAILED' });
    return res(`no task ${pid}`);
  }
  // HANDLE_DEVICE_VMA: the model's device VMAs are all /dev/kfd or render nodes (accepted).
  send(w, obj, { type: 'VMA_SCAN_DONE' });
  // kfd fds whose PROCESS_INFO paused the queues (the dump-abort "unpause" variant undoes them)
  const paused: number[] = [];
  const fail = (why: string) => {
    send(w, obj, { type: 'FILE_FAILED' });
    // The plugin leaves them paused (spec §9.4); the fix unpauses them as it gives up.
    if (w.variants['dump-abort'] === 'unpause')
      for (const fd of paused) x.issue('dump abort', criu, 'AMDKFD_IOC_CRIU_OP', { pid, fd }, { op: 'UNPAUSE' });
    return res(why);
  };
  const fds = Object.keys(task.fds)
    .map(Number)
    .sort((a, b) => a - b);
  // shared-BO list: gem id → GEM handle (record_shared_bo), and the dumped DRM files
  const shared = new Map<string, number>();
  const kfdGemHandle = new Map<string, { image: number; bo: number }>();
  const dumpedDrm: string[] = [];
  const deferred: { fd: number; gem: string }[] = [];
  const kfdFds: number[] = [];
  const matchDeferred = (): number => {
    let n = 0;
    for (let i = deferred.length - 1; i >= 0; i--) {
      const d = deferred[i]!;
      const h = shared.get(d.gem);
      if (h === undefined) continue;
      images.dmabuf.push({ id: d.fd, dmabuf: { gem_handle: h } });
      deferred.splice(i, 1);
      n++;
    }
    return n;
  };
  for (const fd of fds) {
    const file = w.files[task.fds[fd]!]!;
    const ref = { pid, fd };
    if (file.kind === 'kfd') {
      // kernel_supports_criu: GET_VERSION on CRIU's own /dev/kfd (spec §9.4 d)
      const own = x.issue('DUMP_EXT_FILE', criu, 'open', undefined, { path: '/dev/kfd' });
      const v = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_GET_VERSION', own.out.fd as number, {});
      x.issue('DUMP_EXT_FILE', criu, 'close', undefined, { fd: own.out.fd });
      const major = v.out.major_version as number;
      const minor = v.out.minor_version as number;
      if (v.ret !== 0 || major < KFD_MIN.major || (major === KFD_MIN.major && minor < KFD_MIN.minor))
        return fail(`KFD ioctl version ${major}.${minor} < 1.8`);
      const info = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_CRIU_OP', ref, { op: 'PROCESS_INFO' });
      if (info.ret !== 0) return fail(`PROCESS_INFO returned ${info.ret}`);
      paused.push(fd);
      const c = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_CRIU_OP', ref, {
        op: 'CHECKPOINT',
        devices: [],
        bos: [],
        priv_data: '',
        num_devices: info.out.num_devices,
        num_bos: info.out.num_bos,
        num_objects: info.out.num_objects,
        priv_data_size: encodeField(undefined, info.out.priv_data_size),
      });
      if (c.ret !== 0) return fail(`CHECKPOINT returned ${c.ret}`);
      const devices = c.out.devices as { user_gpu_id: number; actual_gpu_id: number }[];
      const buckets = c.out.bos as {
        addr: bigint;
        size: bigint;
        offset: bigint;
        gpu_id: number;
        alloc_flags: number;
        dmabuf_fd: number;
      }[];
      const contents: (PageContent | undefined)[] = [];
      const index = kfdBoIndex(w, pid);
      const bo_entries = buckets.map((b, i) => {
        const found = index.get(boKey(b.gpu_id, b.addr));
        // sdma_copy_bo(SDMA_OP_VRAM_READ) for VRAM/GTT BOs (spec §9.4 h, §9.7)
        contents.push(found && kfdBoHasPages(b.alloc_flags) ? { ...w.gems[found.bo.gem]!.content } : undefined);
        if (found && (b.alloc_flags & KFD_IOC_ALLOC_MEM_FLAGS.USERPTR) !== 0) {
          const content = w.gems[found.bo.gem]?.content ?? {};
          if (Object.keys(content).length) memory.push({ gpu_id: b.gpu_id, addr: b.addr, content: { ...content } });
        }
        if (found) kfdGemHandle.set(found.bo.gem, { image: fd, bo: i });
        return {
          addr: b.addr,
          size: b.size,
          offset: b.offset,
          alloc_flags: b.alloc_flags,
          gpu_id: b.gpu_id,
          handle: NO_GEM_HANDLE,
        };
      });
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
      images.kfd.push({ id: fd, kfd, contents });
      kfdFds.push(fd);
      send(w, obj, { type: 'KFD_FILE_DUMPED' });
    } else if (file.kind === 'drm') {
      let list = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', ref, { num_entries: 8 });
      if (list.ret !== 0 && list.ret !== -22) return fail(`GEM_LIST_HANDLES returned ${list.ret}`);
      if (list.ret === 0 && (list.out.num_entries as number) > 8) {
        list = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', ref, {
          num_entries: list.out.num_entries,
        });
        if (list.ret !== 0) return fail(`GEM_LIST_HANDLES returned ${list.ret}`);
      }
      const entries = list.ret === 0 ? ((list.out.entries as Record<string, unknown>[] | undefined) ?? []) : [];
      const priv = w.drm?.[file.id];
      const bo_entries: DrmBoEntry[] = [];
      const contents: (PageContent | undefined)[] = [];
      for (const e of entries) {
        const handle = e.gem_handle as number;
        const mm = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_MMAP', ref, { handle });
        if (mm.ret !== 0) return fail(`GEM_MMAP returned ${mm.ret}`);
        let info = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_OP', ref, {
          handle,
          op: 'GET_MAPPING_INFO',
          num_entries: 8,
        });
        if (info.ret === 0 && (info.out.num_entries as number) > 8)
          info = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_OP', ref, {
            handle,
            op: 'GET_MAPPING_INFO',
            num_entries: info.out.num_entries,
          });
        if (info.ret !== 0) return fail(`GEM_OP(GET_MAPPING_INFO) returned ${info.ret}`);
        const vms = ((info.out.vm_entries as DrmBoEntry['vm_entries'] | undefined) ?? []).map((v) => ({ ...v }));
        const gem = priv?.object_idr[handle];
        const exporter = gem === undefined ? undefined : kfdGemHandle.get(gem);
        const isImport = ((e.flags as number) & 1) !== 0 || exporter !== undefined;
        if (exporter) images.kfd.find((k) => k.id === exporter.image)!.kfd.bo_entries[exporter.bo]!.handle = handle;
        if (gem !== undefined && !shared.has(gem)) shared.set(gem, handle);
        contents.push(gem !== undefined && !isImport ? { ...w.gems[gem]!.content } : undefined);
        bo_entries.push({
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
        });
      }
      const gpu = x.world.topology.gpus.find((g) => g.gpu_id === file.gpu_id)!;
      images.renderD.push({
        id: fd,
        renderD: {
          gpu_id: file.gpu_id,
          id: fd,
          drm_render_minor: gpu.render_minor,
          num_of_bos: BigInt(bo_entries.length),
          bo_entries,
        },
        contents,
      });
      dumpedDrm.push(file.id);
      send(w, obj, { type: 'DRM_FILE_DUMPED', matched: matchDeferred() });
    } else if (file.kind === 'dmabuf') {
      const h = shared.get(file.gem);
      if (h === undefined) {
        deferred.push({ fd, gem: file.gem });
        send(w, obj, { type: 'DMABUF_DEFERRED' });
      } else {
        images.dmabuf.push({ id: fd, dmabuf: { gem_handle: h } });
        send(w, obj, { type: 'DMABUF_DUMPED' });
      }
    }
  }
  send(w, obj, { type: 'FILES_DONE' });
  // DUMP_DEVICES_LATE: UNPAUSE, then post_dump_dmabuf_check (spec §9.4 step 3)
  for (const fd of kfdFds) {
    const u = x.issue('DUMP_DEVICES_LATE', criu, 'AMDKFD_IOC_CRIU_OP', { pid, fd }, { op: 'UNPAUSE' });
    if (u.ret !== 0) {
      send(w, obj, { type: 'UNPAUSE_FAILED' });
      return res(`UNPAUSE returned ${u.ret}`);
    }
  }
  send(w, obj, { type: 'UNPAUSED' });
  return res(deferred.length ? 'Not all dma buffers have been dumped' : null);
}

/**
 * The restored process's GPU state is active: its kfd_process left the RESTORE → RESUME
 * block (MMU notifiers, userptr and SVM mappings, spec §5.5) or one of its queues runs.
 */
export function gpuActivated(w: World, pid: number): boolean {
  const t = liveTask(w, pid);
  if (!t?.kfd_process) return false;
  if (!inState(w, t.kfd_process, 'alive.mmu.blocked')) return true;
  return Object.values(t.queues).some((q) => inState(w, q, 'active'));
}

export interface RestoreOptions {
  /** The restored task's pid (default: the pid saved in the KFD image). */
  pid?: number;
  /** The CRIU master (issues RESUME). */
  criu: number;
  /** user gpu_id → local actual gpu_id (default identity; see setRestoreGpuMaps). */
  gpuMap?: ReadonlyMap<number, number>;
  /** Process memory CRIU core restores (userptr BO pages; DumpResult.memory). */
  memory?: readonly ProcessMemory[];
}

export interface RestoreResult {
  ok: boolean;
  failure: string | null;
  object: string;
  pid: number;
  calls: OrchestratedCall[];
  /** Original fd (CRIU file id) → fd of the restored task. */
  fds: Record<number, number>;
}

/**
 * Restore images into `w` in CRIU's stages (spec §9.5). With the `resume: "at-restore-file"`
 * variant RESUME and the userptr worker run right after the KFD restore, at RESTORE_EXT_FILE
 * (the design spec §9.6 explains is wrong).
 */
export function restoreImages(w: World, images: ImageDir, o: RestoreOptions): RestoreResult {
  const x = new Issuer(w);
  const pid = o.pid ?? images.kfd[0]?.kfd.pid ?? 0;
  const obj = createObject(w, 'criu.restore', { pid });
  const fds: Record<number, number> = {};
  const res = (failure: string | null): RestoreResult => ({
    ok: failure === null,
    failure,
    object: obj,
    pid,
    calls: x.calls,
    fds,
  });
  const failed = (why: string) => {
    send(w, obj, { type: 'FILE_FAILED' });
    return res(why);
  };
  const map = (u: number) => o.gpuMap?.get(u) ?? u;
  // After KFD RESTORE the process waits for RESUME (kfd_process alive.mmu.blocked, queues
  // evicted); note the stage in which that ends (invariant criu.resume-late, spec §9.6).
  let restored = false;
  x.onIssued = () => {
    if (!restored || contextOf<CriuRestoreContext>(w, obj).activated_in !== null) return;
    const ev = { type: 'GPU_ACTIVATED' as const, stage: String(w.objects[obj]!.value) };
    if (gpuActivated(w, pid) && canSend(w, obj, ev)) send(w, obj, ev);
  };
  const early = w.variants.resume === 'at-restore-file';
  send(w, obj, { type: 'ROOT_TASK' });
  taskOf(w, pid);
  send(w, obj, { type: 'PREPARE_NAMESPACES' });
  send(w, obj, { type: 'POST_FORKING' });
  // CR_STATE_RESTORE: RESTORE_EXT_FILE for /dev/kfd first (spec §9.5 step 3)
  const published = new Map<number, number>(); // GEM handle → dma-buf fd of the restored task
  const dmabufFds = new Set<number>(); // dma-buf fds the restore made (closed when no file needs them)
  const drmFdOf = new Map<number, number>(); // actual gpu id → render fd opened by the plugin
  const openDrm = (actual: number): number => {
    const have = drmFdOf.get(actual);
    if (have !== undefined) return have;
    const g = w.topology.gpus.find((q) => q.gpu_id === actual);
    if (!g) return -1;
    const r = x.issue('RESTORE_EXT_FILE', pid, 'open', undefined, { path: `/dev/dri/renderD${g.render_minor}` });
    drmFdOf.set(actual, r.out.fd as number);
    return r.out.fd as number;
  };
  /** amdgpu_plugin_resume_devices_late: a fresh /dev/kfd of the CRIU master, CRIU_OP(RESUME, pid). */
  const resume = (stage: string): CallResult => {
    const own = x.issue(stage, o.criu, 'open', undefined, { path: '/dev/kfd' });
    const r = x.issue(stage, o.criu, 'AMDKFD_IOC_CRIU_OP', own.out.fd as number, { op: 'RESUME', pid });
    x.issue(stage, o.criu, 'close', undefined, { fd: own.out.fd });
    return r;
  };
  if (images.kfd.length === 0) return failed('no KFD image');
  for (const k of images.kfd) {
    const open = x.issue('RESTORE_EXT_FILE', pid, 'open', undefined, { path: '/dev/kfd' });
    if (open.ret < 0 || typeof open.out.fd !== 'number') return failed(`open /dev/kfd returned ${open.ret}`);
    const kfdFd = open.out.fd;
    const gpus = k.kfd.device_entries.filter((d) => d.gpu_id !== 0);
    for (const d of gpus)
      if (!w.topology.gpus.some((g) => g.gpu_id === map(d.gpu_id))) return failed('Failed to map GPUs');
    const r = x.issue('RESTORE_EXT_FILE', pid, 'AMDKFD_IOC_CRIU_OP', kfdFd, {
      op: 'RESTORE',
      devices: gpus.map((d) => ({
        user_gpu_id: d.gpu_id,
        actual_gpu_id: map(d.gpu_id),
        drm_fd: openDrm(map(d.gpu_id)),
        pad: 0,
      })),
      // u64 fields as bigints: the schema takes them as they are (no text round trip per bucket)
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
      priv_data: Buffer.from(k.kfd.priv_data).toString('hex'),
      num_objects: k.kfd.num_of_objects,
    });
    if (r.ret !== 0) return failed(`Restore ioctl failed (${r.ret})`);
    restored = true;
    const out = (r.out.bos as { dmabuf_fd: number }[] | undefined) ?? [];
    k.kfd.bo_entries.forEach((b, i) => {
      const dfd = out[i]?.dmabuf_fd ?? 0xffffffff;
      if (dfd !== 0xffffffff) dmabufFds.add(dfd);
      // store_dmabuf_fd: publish for render-node importers (spec §9.5 step 3.7)
      if (b.handle !== NO_GEM_HANDLE && dfd !== 0xffffffff && !published.has(b.handle)) published.set(b.handle, dfd);
    });
    // restore_bo_data: SDMA-write VRAM/GTT contents (spec §9.5 step 3.8), as gpu_write calls
    const index = kfdBoIndex(w, pid);
    k.kfd.bo_entries.forEach((b, i) => {
      const content = k.contents?.[i];
      if (!content) return;
      const found = index.get(boKey(b.gpu_id, b.addr));
      if (!found) return;
      const handle = encodeField(undefined, MAKE_HANDLE(b.gpu_id, found.idr));
      for (const [page, value] of Object.entries(content))
        if (value !== 0) x.issue('RESTORE_EXT_FILE', pid, 'gpu_write', kfdFd, { handle, page: Number(page), value });
    });
    // CRIU core's premapped private memory: the userptr BOs' pages (modelled as gpu_write)
    for (const m of o.memory ?? []) {
      const found = index.get(boKey(m.gpu_id, m.addr));
      if (!found) continue;
      const handle = encodeField(undefined, MAKE_HANDLE(m.gpu_id, found.idr));
      for (const [page, value] of Object.entries(m.content))
        if (value !== 0) x.issue('CRIU memory', pid, 'gpu_write', kfdFd, { handle, page: Number(page), value });
    }
    fds[k.id] = kfdFd;
    send(w, obj, { type: 'KFD_FILE_RESTORED' });
    if (early) {
      resume('RESTORE_EXT_FILE');
      x.issue('RESTORE_EXT_FILE', undefined, 'kfd.restore_userptr_worker', undefined, { pid });
    }
  }
  // render nodes and dma-buf fds, with CRIU's retry loop
  const done = new Map<number, Set<number>>();
  let pending = [
    ...images.renderD.map((r) => ({ kind: 'drm' as const, r })),
    ...images.dmabuf.map((d) => ({ kind: 'dmabuf' as const, d })),
  ];
  const usedDmabuf = new Set<number>(); // dma-buf fds given to a dma-buf file of the task
  const handleFile = new Map<number, number>(); // GEM handle → restored render fd holding it
  while (pending.length) {
    const again: typeof pending = [];
    for (const p of pending) {
      if (p.kind === 'dmabuf') {
        const h = p.d.dmabuf.gem_handle;
        let f = published.get(h);
        // fdstore_get gives each dma-buf file its own fd of the stored dma-buf; the model has no
        // dup, so a second fd of one dma-buf is PRIME_HANDLE_TO_FD of its handle (same dma-buf,
        // a new fd) on the render file that holds the handle, once that file is restored
        if (f !== undefined && usedDmabuf.has(f)) {
          const drm = handleFile.get(h);
          const e =
            drm === undefined
              ? undefined
              : x.issue('RESTORE_EXT_FILE', pid, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', drm, { handle: h });
          if (e && e.ret !== 0) return failed(`PRIME_HANDLE_TO_FD returned ${e.ret}`);
          f = e ? (e.out.fd as number) : undefined;
        }
        if (f === undefined) {
          again.push(p);
          send(w, obj, { type: 'FILE_RETRY' });
        } else {
          fds[p.d.id] = f;
          usedDmabuf.add(f);
          send(w, obj, { type: 'FILE_RESTORED' });
        }
        continue;
      }
      const rd = p.r.renderD;
      const fd = openDrm(map(rd.gpu_id));
      if (fd < 0) return failed(`no GPU for render node ${rd.gpu_id}`);
      const seen = done.get(p.r.id) ?? new Set<number>();
      done.set(p.r.id, seen);
      let retry = false;
      for (const [i, b] of rd.bo_entries.entries()) {
        if (seen.has(b.handle)) continue;
        let h: number;
        if (b.is_import) {
          const dfd = published.get(b.handle);
          if (dfd === undefined) {
            retry = true;
            continue;
          }
          const r = x.issue('RESTORE_EXT_FILE', pid, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', fd, { fd: dfd });
          if (r.ret !== 0) return failed(`PRIME_FD_TO_HANDLE returned ${r.ret}`);
          h = r.out.handle as number;
        } else {
          const r = x.issue('RESTORE_EXT_FILE', pid, 'DRM_IOCTL_AMDGPU_GEM_CREATE', fd, {
            bo_size: b.size,
            alignment: b.alignment,
            domains: b.preferred_domains,
            domain_flags: Number(b.alloc_flags),
          });
          if (r.ret !== 0) return failed(`GEM_CREATE returned ${r.ret}`);
          h = r.out.handle as number;
        }
        if (h !== b.handle) {
          const ch = x.issue('RESTORE_EXT_FILE', pid, 'DRM_IOCTL_GEM_CHANGE_HANDLE', fd, {
            handle: h,
            new_handle: b.handle,
          });
          if (ch.ret !== 0) return failed(`GEM_CHANGE_HANDLE returned ${ch.ret}`);
        }
        if (!b.is_import) {
          const e = x.issue('RESTORE_EXT_FILE', pid, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', fd, { handle: b.handle });
          if (e.ret === 0) dmabufFds.add(e.out.fd as number);
          if (e.ret === 0 && !published.has(b.handle)) published.set(b.handle, e.out.fd as number);
          const content = p.r.contents?.[i];
          const gem = w.drm?.[w.tasks[pid]!.fds[fd]!]?.object_idr[b.handle];
          // restore_bo_contents_drm (SDMA write; no content ioctl for render-node BOs in the model)
          if (content && gem) Object.assign(w.gems[gem]!.content, content);
        }
        seen.add(b.handle);
        if (!handleFile.has(b.handle)) handleFile.set(b.handle, fd);
        const mm = x.issue('RESTORE_EXT_FILE', pid, 'DRM_IOCTL_AMDGPU_GEM_MMAP', fd, { handle: b.handle });
        if (mm.ret !== 0) return failed(`GEM_MMAP returned ${mm.ret}`);
        for (const v of b.vm_entries) {
          const va = x.issue('RESTORE_EXT_FILE', pid, 'DRM_IOCTL_AMDGPU_GEM_VA', fd, {
            handle: b.handle,
            operation: 'MAP',
            flags: Number(v.flags),
            va_address: v.addr,
            offset_in_bo: v.offset,
            map_size: v.size,
          });
          if (va.ret !== 0) return failed(`GEM_VA MAP returned ${va.ret}`);
        }
      }
      if (retry) {
        again.push(p);
        send(w, obj, { type: 'FILE_RETRY' });
      } else {
        fds[p.r.id] = fd;
        send(w, obj, { type: 'FILE_RESTORED' });
      }
    }
    const progressed = again.length < pending.length;
    send(w, obj, { type: 'PASS_END' });
    if (!progressed && again.length) return res('RESTORE_EXT_FILE made no progress in a full pass');
    pending = again;
  }
  // "finally close the dmabuf fds in the task" (spec §9.5 step 3.8); those installed as the
  // task's own dma-buf fds stay
  const kept = new Set(Object.values(fds));
  for (const f of [...dmabufFds].sort((a, b) => a - b))
    if (!kept.has(f)) x.issue('RESTORE_EXT_FILE', pid, 'close', undefined, { fd: f });
  if (inState(w, obj, 'restoreFiles')) send(w, obj, { type: 'PASS_END' });
  for (const s of ['UPDATE_VMA_MAP', 'RESTORER', 'RESTORE_SIGCHLD', 'RESTORE_CREDS', 'COMPLETE'] as const)
    send(w, obj, { type: s });
  // RESUME_DEVICES_LATE: a fresh /dev/kfd of the CRIU master, CRIU_OP(RESUME, pid) (spec §9.5 step 7)
  if (!early) {
    const r = resume('RESUME_DEVICES_LATE');
    if (r.ret !== 0) {
      send(w, obj, { type: 'RESUME_FAILED' });
      return res(
        `RESUME returned ${r.ret} (CRIU only logs this; the task continues with its GPU queues stopped, spec §9.5 step 7)`,
      );
    }
  }
  send(w, obj, { type: 'RESUMED' });
  if (!early) x.issue('RESUME_DEVICES_LATE', undefined, 'kfd.restore_userptr_worker', undefined, { pid });
  send(w, obj, { type: 'USERPTR_WORKER' });
  return res(null);
}
