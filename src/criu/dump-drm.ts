/**
 * The amdgpu plugin's dump of a render-node file (`amdgpu_plugin_drm_dump_file`, spec §9.8
 * "Dump of a render-node fd"): GEM_LIST_HANDLES, then per handle GEM_MMAP and GET_MAPPING_INFO,
 * whether it is an import, its contents, and the shared-BO list (`record_shared_bo`) that names
 * KFD BOs and dma-buf fds by their GEM handle. Deferred dma-buf fds are retried after each file.
 */
import { contentGem } from '../ioctls/amdgpu/kernel/gem.js';
import { send } from '../world/objects.js';
import type { OpenFile } from '../world/types.js';
import { tryDumpDmabufList } from './dump-dmabuf.js';
import type { TaskFd, TreeDump } from './dump-state.js';
import type { DrmBoEntry, PageContent } from './images/index.js';
import { NO_GEM_HANDLE } from './images/index.js';

/**
 * The gpu_id a render-node image records (spec §9.2, §9.8 step 3: a user gpu id): the device's
 * user id in checkpoint_maps, which the /dev/kfd files dumped so far filled (save_devices); 0
 * when they do not know the device, and the plugin fails the dump (-ENODEV, "Failed to find valid
 * gpu_id for the device"). So a render node dumped before any /dev/kfd file of the tree (a lower
 * fd of the first task, or a process without /dev/kfd) cannot be dumped (CRIU issue #2664;
 * render-node-only CRIU is spec §8.3's RFC).
 */
function renderNodeGpuId(d: TreeDump, actual: number): number {
  return d.checkpointMaps.get(actual) ?? 0;
}

/** amdgpu_plugin_drm_dump_file (spec §9.8 "Dump of a render-node fd"); a failure or null. */
export function dumpDrm(
  d: TreeDump,
  pid: number,
  fd: number,
  id: number,
  file: Extract<OpenFile, { kind: 'drm' }>,
): string | null {
  const w = d.w;
  const ref = { pid, fd };
  const entries = listHandles(d, ref);
  if (typeof entries === 'string') return entries;
  const priv = w.drm?.[file.id];
  const bo_entries: DrmBoEntry[] = [];
  const contents: (PageContent | undefined)[] = [];
  for (const e of entries) {
    const handle = e.gem_handle as number;
    const r = drmBo(d, ref, e, priv?.object_idr[handle]);
    if (typeof r === 'string') return r;
    bo_entries.push(r.entry);
    contents.push(r.content);
  }
  // record_shared_bo(handle, is_import) of every entry, after the loop
  for (const b of bo_entries) d.recordSharedBo(b.handle, b.is_import !== 0);
  const gpu = w.topology.gpus.find((g) => g.gpu_id === file.gpu_id)!;
  const gpuId = renderNodeGpuId(d, file.gpu_id);
  if (gpuId === 0) return `Failed to find valid gpu_id for the device = ${file.gpu_id}`;
  d.images.renderD.push({
    id,
    renderD: {
      gpu_id: gpuId,
      id,
      drm_render_minor: gpu.render_minor,
      num_of_bos: BigInt(bo_entries.length),
      bo_entries,
    },
    contents,
  });
  d.drmRefs.push(ref);
  send(w, d.obj, { type: 'DRM_FILE_DUMPED', matched: tryDumpDmabufList(d) });
  return null;
}

/** GEM_LIST_HANDLES with room for 8, again with room for all if there are more; -EINVAL is no handles. */
function listHandles(d: TreeDump, ref: TaskFd): Record<string, unknown>[] | string {
  const { x, criu } = d;
  let list = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', ref, { num_entries: 8 });
  if (list.ret !== 0 && list.ret !== -22) return `GEM_LIST_HANDLES returned ${list.ret}`;
  if (list.ret === 0 && (list.out.num_entries as number) > 8) {
    list = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', ref, {
      num_entries: list.out.num_entries,
    });
    if (list.ret !== 0) return `GEM_LIST_HANDLES returned ${list.ret}`;
  }
  return list.ret === 0 ? ((list.out.entries as Record<string, unknown>[] | undefined) ?? []) : [];
}

/** One handle of a render-node file: GEM_MMAP, GET_MAPPING_INFO, the export, is_import, contents. */
function drmBo(
  d: TreeDump,
  ref: TaskFd,
  e: Record<string, unknown>,
  gem: string | undefined,
): { entry: DrmBoEntry; content: PageContent | undefined } | string {
  const handle = e.gem_handle as number;
  const mm = d.x.issue('DUMP_EXT_FILE', d.criu, 'DRM_IOCTL_AMDGPU_GEM_MMAP', ref, { handle });
  if (mm.ret !== 0) return `GEM_MMAP returned ${mm.ret}`;
  const vms = mappingInfo(d, ref, handle);
  if (typeof vms === 'string') return vms;
  // drmPrimeHandleToFD on the application's file, for the SDMA read of the contents (the
  // model copies them directly), then closed: a BO that cannot be exported (VM_ALWAYS_VALID,
  // -EPERM) fails the dump.
  const ex = d.x.issue('DUMP_EXT_FILE', d.criu, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', ref, { handle, flags: 0 });
  if (ex.ret !== 0) return `Failed to get dmabuf fd from handle ${handle} (${ex.ret})`;
  d.x.issue('DUMP_EXT_FILE', d.criu, 'close', undefined, { fd: ex.out.fd });
  const isImport = sharedBoImport(d, handle, e.flags as number, gem);
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
  // every handle's pages are read, an import's too (its pages are its exporter's)
  return { entry, content: gem !== undefined ? { ...contentGem(d.w, gem).content } : undefined };
}

/**
 * Whether handle `handle` (of GEM object `gem`, with GEM_LIST_HANDLES `flags`) is saved as an
 * import, and the shared-BO bookkeeping of the plugin that decides it: the handle of a KFD BO
 * named, the first handle of each object remembered.
 */
function sharedBoImport(d: TreeDump, handle: number, flags: number, gem: string | undefined): boolean {
  const exporter = gem === undefined ? undefined : d.kfdGemHandle.get(gem);
  // the KFD BO's handle (get_gem_handle, spec §9.4 h) under plugin-kfd-handles: application:
  // the first render file holding it names it; a later one (another task's import under another
  // number) must not rename it. save_bos records it in the shared-BO list as an exporter
  // (record_shared_bo(handle, false)). Under dumper, save_bos numbered it in CRIU's own file.
  const kfdEntry = exporter && d.images.kfd.find((k) => k.id === exporter.image)!.kfd.bo_entries[exporter.bo]!;
  if (kfdEntry && kfdEntry.handle === NO_GEM_HANDLE && d.w.variants['plugin-kfd-handles'] === 'application') {
    kfdEntry.handle = handle;
    d.recordSharedBo(handle, false);
  }
  const flagged = (flags & 1) !== 0;
  // is_import = IS_IMPORT || shared_bo_has_exporter(handle): the plugin's list is keyed by the
  // handle number. by-object counts another file's handle only when it is the same BO under the
  // same number; by-number (the plugin as written) counts any number listed as an exporter
  const isImport =
    d.w.variants['plugin-shared-bos'] === 'by-number'
      ? flagged || d.hasExporter(handle)
      : flagged || exporter !== undefined || (gem !== undefined && d.shared.get(gem) === handle);
  if (gem !== undefined && !d.shared.has(gem)) d.shared.set(gem, handle);
  return isImport;
}

/** GEM_OP(GET_MAPPING_INFO) with room for 8, again with room for all if there are more. */
function mappingInfo(d: TreeDump, ref: TaskFd, handle: number): DrmBoEntry['vm_entries'] | string {
  const { x, criu } = d;
  const args = { handle, op: 'GET_MAPPING_INFO', num_entries: 8 };
  let info = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_OP', ref, args);
  if (info.ret === 0 && (info.out.num_entries as number) > 8)
    info = x.issue('DUMP_EXT_FILE', criu, 'DRM_IOCTL_AMDGPU_GEM_OP', ref, {
      ...args,
      num_entries: info.out.num_entries,
    });
  if (info.ret !== 0) return `GEM_OP(GET_MAPPING_INFO) returned ${info.ret}`;
  return ((info.out.vm_entries as DrmBoEntry['vm_entries'] | undefined) ?? []).map((v) => ({ ...v }));
}
