/**
 * amdgpu_amdkfd_gpuvm.c: dma-buf export and import of KFD BOs —
 * amdgpu_amdkfd_gpuvm_export_dmabuf (kfd_mem_export_dmabuf), amdgpu_amdkfd_gpuvm_import_dmabuf_fd
 * (import_obj_create) — and the release of a dma-buf file (drm_gem_dmabuf_release; spec §7.2
 * EXPORT_DMABUF/IMPORT_DMABUF, §9.8).
 *
 * A KFD export and a render-node export of the same GEM object give the same dma-buf
 * (src/ioctls/drm/prime.ts); an import is a new kgd_mem sharing the exporter's GEM object.
 */
import { gemAttachDmabuf, gemSend, releaseDmabufFile } from '../../amdgpu/kernel/gem.js';
import { DRM_PRIME_FLAGS } from '../../amdgpu/uapi.js';
import { objectDmabuf } from '../../drm/prime.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../../../uapi/index.js';
import { fileGet } from '../../../world/fds.js';
import { createObject, send } from '../../../world/objects.js';
import type { OpenFile, Task, World } from '../../../world/types.js';
import { bo } from '../../../world/world.js';
import { fail } from '../../registry.js';

/** Release what a dma-buf file holds once its last reference is gone (drm_gem_dmabuf_release). */
export function releaseDmabuf(w: World, f: OpenFile): void {
  releaseDmabufFile(w, f);
}

/**
 * amdgpu_amdkfd_gpuvm_export_dmabuf (kfd_mem_export_dmabuf): one dma-buf per object,
 * cached in the kgd_mem (which holds a reference until it is freed); the caller installs
 * an fd, which takes a reference of its own. A render-node export of the same object gives
 * the same dma-buf.
 */
export function exportDmabuf(w: World, boId: string): string {
  const b = bo(w, boId);
  // amdgpu_gem_prime_export: userptr BOs cannot be exported.
  if (b.alloc_flags & F.USERPTR) fail(-ERRNO.EPERM);
  if (b.dmabuf) return b.dmabuf;
  const file = objectDmabuf(w, b.gem, b.alloc_flags & F.WRITABLE ? DRM_PRIME_FLAGS.RDWR : 0);
  fileGet(w, file);
  send(w, boId, { type: 'EXPORT', dmabuf: file });
  return file;
}

/**
 * amdgpu_amdkfd_gpuvm_import_dmabuf_fd: a new kgd_mem sharing the exporter's GEM object
 * (gpucr does not create the sg object the kernel makes for a dma-buf of another device:
 * content written through either side is the same). Like import_obj_create, the kgd_mem
 * keeps the dma-buf (mem->dmabuf), so a later EXPORT_DMABUF of it hands out the same one.
 */
export function importDmabuf(w: World, task: Task, gpuId: number, dmabufFile: string, va: bigint): string {
  const f = w.files[dmabufFile];
  if (!f || f.kind !== 'dmabuf') fail(-ERRNO.EINVAL);
  const gem = w.gems[f.gem]!;
  if (gem.domain !== 'VRAM' && gem.domain !== 'GTT') fail(-ERRNO.EINVAL);
  const flags = ((gem.domain === 'VRAM' ? F.VRAM : F.GTT) | F.WRITABLE | F.EXECUTABLE) >>> 0;
  gemAttachDmabuf(w, gem.id, f.id);
  const id = createObject(w, 'kfd.bo', {
    pid: task.pid,
    gpu_id: gpuId,
    va,
    size: gem.size,
    alloc_flags: flags,
    gem: gem.id,
    user_addr: 0n,
    is_imported: true,
    internal: false,
  });
  gemSend(w, gem.id, { type: 'KFD_REF', mem: id });
  // import_obj_create: `get_dma_buf(dma_buf); (*mem)->dmabuf = dma_buf;` — kept until FREE.
  fileGet(w, f.id);
  send(w, id, { type: 'EXPORT', dmabuf: f.id });
  return id;
}
