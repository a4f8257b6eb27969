/**
 * The amdgpu plugin's dump of a /dev/kfd file (`amdgpu_plugin_dump_file`, spec §9.4 d–i):
 * kernel_supports_criu, PROCESS_INFO (which pauses the process's queues), CHECKPOINT, then
 * save_bos (BO entries, VRAM/GTT contents, userptr memory) and the `amdgpu-kfd-<id>` image.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import { KFD_INVALID_FD, KFD_IOC_ALLOC_MEM_FLAGS } from '../uapi/index.js';
import { send } from '../world/objects.js';
import type { World } from '../world/types.js';
import { gpuById } from '../world/world.js';
import { checkpointArgs } from './amdgpu-calls.js';
import type { TreeDump } from './dump-state.js';
import type { CriuKfd, KfdBoEntry, PageContent } from './images/index.js';
import { NO_GEM_HANDLE } from './images/index.js';
import { kfdBoHasPages } from './images/dir.js';
import { deviceEntries } from './device-entries.js';
import { criuVersionFailure, kfdBoIndex } from './orchestrate-common.js';

/** One BO bucket of CHECKPOINT's output (kfd_criu_bo_bucket). */
type Bucket = { addr: bigint; size: bigint; offset: bigint; gpu_id: number; alloc_flags: number; dmabuf_fd: number };

/** amdgpu_plugin_dump_file for /dev/kfd (spec §9.4 d–i); a failure or null. */
export function dumpKfd(d: TreeDump, pid: number, fd: number, id: number): string | null {
  const { x, criu } = d;
  const ref = { pid, fd };
  const unsupported = kernelSupportsCriu(d);
  if (unsupported !== null) return unsupported;
  const info = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_CRIU_OP', ref, { op: 'PROCESS_INFO' });
  if (info.ret !== 0) return `PROCESS_INFO returned ${info.ret}`;
  d.paused.push(ref);
  const c = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_CRIU_OP', ref, checkpointArgs(info.out));
  if (c.ret !== 0) return `CHECKPOINT returned ${c.ret}`;
  // save_devices: maps_add_gpu_entry(&checkpoint_maps, actual_gpu_id, user_gpu_id) per device
  for (const dev of c.out.devices as { user_gpu_id: number; actual_gpu_id: number }[])
    d.checkpointMaps.set(dev.actual_gpu_id, dev.user_gpu_id);
  const buckets = c.out.bos as Bucket[];
  const { bo_entries, contents } = saveBos(d, pid, id, buckets);
  if (d.w.variants['plugin-kfd-handles'] === 'dumper') {
    const failed = dumperHandles(d, buckets, bo_entries);
    if (failed !== null) return failed;
  }
  // the dma-buf fds CHECKPOINT installed in CRIU are closed after the content copy
  for (const b of buckets)
    if (b.dmabuf_fd !== KFD_INVALID_FD) x.issue('DUMP_EXT_FILE', criu, 'close', undefined, { fd: b.dmabuf_fd });
  const kfd = kfdImage(d.w, pid, info.out, c.out, bo_entries);
  d.images.kfd.push({ id, kfd, contents });
  d.kfdRefs.push(ref);
  send(d.w, d.obj, { type: 'KFD_FILE_DUMPED' });
  return null;
}

/** kernel_supports_criu: GET_VERSION on CRIU's own /dev/kfd (spec §9.4 d); a failure or null. */
function kernelSupportsCriu(d: TreeDump): string | null {
  const { x, criu } = d;
  const own = x.issue('DUMP_EXT_FILE', criu, 'open', undefined, { path: '/dev/kfd' });
  const v = x.issue('DUMP_EXT_FILE', criu, 'AMDKFD_IOC_GET_VERSION', own.out.fd as number, {});
  x.issue('DUMP_EXT_FILE', criu, 'close', undefined, { fd: own.out.fd });
  return criuVersionFailure(v);
}

/** The CriuKfd message of a /dev/kfd file from PROCESS_INFO and CHECKPOINT's outputs. */
function kfdImage(
  w: World,
  pid: number,
  info: Record<string, unknown>,
  checkpoint: Record<string, unknown>,
  bo_entries: KfdBoEntry[],
): CriuKfd {
  const devices = checkpoint.devices as { user_gpu_id: number; actual_gpu_id: number }[];
  return {
    pid,
    num_of_gpus: devices.length,
    num_of_cpus: 0,
    device_entries: deviceEntries(
      w,
      devices.map((d) => ({ userId: d.user_gpu_id, actualId: d.actual_gpu_id })),
    ),
    num_of_bos: BigInt(bo_entries.length),
    bo_entries,
    num_of_objects: info.num_objects as number,
    shared_mem_size: 0n,
    shared_mem_magic: 0,
    priv_data: checkpoint.priv_data as Uint8Array,
  };
}

/** save_bos: the bo entries, their contents (SDMA read, spec §9.4 h, §9.7), userptr memory. */
function saveBos(d: TreeDump, pid: number, id: number, buckets: Bucket[]) {
  const w = d.w;
  const contents: (PageContent | undefined)[] = [];
  const index = kfdBoIndex(w, pid);
  const bo_entries = buckets.map((b, i) => {
    const found: { bo: BoContext } | undefined = index.get(b.gpu_id, b.addr);
    contents.push(found && kfdBoHasPages(b.alloc_flags) ? { ...w.gems[found.bo.gem]!.content } : undefined);
    if (found && (b.alloc_flags & KFD_IOC_ALLOC_MEM_FLAGS.USERPTR) !== 0) {
      const content = w.gems[found.bo.gem]?.content ?? {};
      if (Object.keys(content).length) d.memory.push({ pid, gpu_id: b.gpu_id, addr: b.addr, content: { ...content } });
    }
    if (found) d.kfdGemHandle.set(found.bo.gem, { image: id, bo: i });
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

/**
 * save_bos under `plugin-kfd-handles: dumper`: `handle = get_gem_handle(h_dev, dmabuf_fd)` on
 * the render node the plugin opened for the bucket's GPU (spec §9.4 h): PRIME_FD_TO_HANDLE of
 * each VRAM/GTT bucket's dma-buf in CRIU's own file, so the numbers are that file's (1, 2, … in
 * bucket order, one per object); a failed call gives -1. Each is recorded in the shared-BO list
 * as an exporter (record_shared_bo(handle, false)). The bucket's gpu_id is looked up in the
 * topology as it is (the plugin's sys_get_node_by_gpu_id); no such GPU fails the dump (-ENODEV).
 */
function dumperHandles(d: TreeDump, buckets: Bucket[], entries: KfdBoEntry[]): string | null {
  for (const [i, b] of buckets.entries()) {
    if (b.dmabuf_fd === KFD_INVALID_FD) continue;
    const fd = ownRenderNode(d, b.gpu_id);
    if (fd === undefined) return `No render node for gpu_id 0x${b.gpu_id.toString(16)} (-ENODEV)`;
    const r = d.x.issue('DUMP_EXT_FILE', d.criu, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', fd, { fd: b.dmabuf_fd });
    entries[i]!.handle = r.ret === 0 ? (r.out.handle as number) : NO_GEM_HANDLE;
    d.recordSharedBo(entries[i]!.handle, false);
  }
  return null;
}

/** node_get_drm_render_device: the GPU's render node, opened by the plugin at its first use. */
function ownRenderNode(d: TreeDump, gpuId: number): number | undefined {
  const known = d.ownRender.get(gpuId);
  if (known !== undefined) return known;
  const gpu = gpuById(d.w, gpuId);
  if (!gpu) return undefined;
  const r = d.x.issue('DUMP_EXT_FILE', d.criu, 'open', undefined, { path: `/dev/dri/renderD${gpu.render_minor}` });
  if (r.ret < 0) return undefined;
  d.ownRender.set(gpuId, r.out.fd as number);
  return r.out.fd as number;
}
