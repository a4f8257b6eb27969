/**
 * The amdgpu plugin's dump of a /dev/kfd file (`amdgpu_plugin_dump_file`, spec §9.4 d–i):
 * kernel_supports_criu, PROCESS_INFO (which pauses the process's queues), CHECKPOINT, then
 * save_bos (BO entries, VRAM/GTT contents, userptr memory) and the `amdgpu-kfd-<id>` image.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import { KFD_IOC_ALLOC_MEM_FLAGS } from '../uapi/index.js';
import { send } from '../world/objects.js';
import type { World } from '../world/types.js';
import { checkpointArgs } from './amdgpu-calls.js';
import type { TreeDump } from './dump-state.js';
import type { CriuKfd, KfdBoEntry, PageContent } from './images/index.js';
import { NO_GEM_HANDLE } from './images/index.js';
import { kfdBoHasPages } from './images/dir.js';
import { criuVersionFailure, deviceEntry, kfdBoIndex } from './orchestrate-common.js';

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
  // the dma-buf fds CHECKPOINT installed in CRIU are closed after the content copy
  for (const b of buckets)
    if (b.dmabuf_fd !== 0xffffffff) x.issue('DUMP_EXT_FILE', criu, 'close', undefined, { fd: b.dmabuf_fd });
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
    device_entries: devices.map((dev, i) => deviceEntry(w, i + 1, dev.user_gpu_id, dev.actual_gpu_id)),
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
