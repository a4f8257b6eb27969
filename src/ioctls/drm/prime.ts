/**
 * PRIME: sharing GEM objects as dma-bufs (drm_prime.c, amdgpu_dma_buf.c; spec §1, §8.2, §9.8).
 * One dma-buf per object; importing a dma-buf of the same device gives back the exporter's
 * object, of another device a new object that imports it (import_attach). The kernel parts
 * here serve PRIME_HANDLE_TO_FD / PRIME_FD_TO_HANDLE and the KFD dma-buf paths alike.
 */
import { createGem, gemAttachDmabuf, gemBo, gemExport, gemOf } from '../amdgpu/kernel/gem.js';
import { AMDGPU_GEM_CREATE as C, AMDGPU_GEM_DOMAIN as D, DRM_PRIME_FLAGS } from '../amdgpu/uapi.js';
import { ERRNO } from '../../uapi/errno.js';
import { fileGet, installFd, newFile } from '../../world/fds.js';
import type { World } from '../../world/types.js';
import { fileOf } from '../../world/world.js';
import { fail } from '../registry.js';
import { u32 } from '../schema.js';
import { registerDrm } from './dispatch.js';
import { handleCreateAndPut, handleLookup, primeAdd, primeByHandle, primeHandleOf } from './file.js';

/**
 * The dma-buf to hand out for an object (drm_gem_prime_handle_to_dmabuf after the file's own
 * cache missed): an import re-exports its original dma-buf; an exported object its
 * obj->dma_buf; otherwise export_and_register_object (amdgpu_gem_prime_export refuses a
 * userptr or VM_ALWAYS_VALID object: -EPERM).
 */
export function objectDmabuf(w: World, gem: string, flags: number): string {
  const c = gemBo(w, gem);
  if (c.import_attach !== null) return c.import_attach;
  if (c.dmabuf !== null) return c.dmabuf;
  if (c.userptr || gemOf(w, gem).flags & C.VM_ALWAYS_VALID) fail(-ERRNO.EPERM);
  const file = newFile<'dmabuf'>(w, { kind: 'dmabuf', gem, flags: flags & DRM_PRIME_FLAGS.RDWR });
  gemExport(w, gem, file);
  return file;
}

/**
 * amdgpu_gem_prime_import: a dma-buf of an object of the same device gives that object; of
 * another device a new object (amdgpu_dma_buf_create_obj: same size, GTT, the exporter's
 * USWC/COHERENT/EXT_COHERENT/UNCACHED flags, import_attach holding the dma-buf). Then
 * `obj->dma_buf` is set if it was not (drm_gem_prime_fd_to_handle).
 */
export function importObject(w: World, gpuId: number, dmabuf: string): string {
  const f = w.files[dmabuf];
  if (!f || f.kind !== 'dmabuf') fail(-ERRNO.EINVAL);
  const exporter = gemOf(w, f.gem);
  if (exporter.gpu_id === gpuId) {
    gemAttachDmabuf(w, exporter.id, dmabuf);
    return exporter.id;
  }
  const keep = C.CPU_GTT_USWC | C.COHERENT | C.EXT_COHERENT | C.UNCACHED;
  const gem = createGem(w, {
    gpu_id: gpuId,
    size: exporter.size,
    preferred_domains: D.GTT,
    flags: exporter.flags & keep,
    page_alignment: 1,
    alloc_flags: 0,
    userptr: false,
    import_attach: dmabuf,
    kfd_vram: 0n,
  });
  fileGet(w, dmabuf);
  return gem;
}

/** struct drm_prime_handle, the argument of both PRIME ioctls: its schema and its decoded form. */
const PRIME_HANDLE = { handle: u32, flags: u32, fd: u32 };
interface PrimeArgs {
  handle: number;
  flags: number;
  fd: number;
}

// drm_prime_handle_to_fd_ioctl → drm_gem_prime_handle_to_fd (drm_prime.c), spec §8.2, §9.8
export const primeHandleToFd = registerDrm<PrimeArgs>({
  name: 'DRM_IOCTL_PRIME_HANDLE_TO_FD',
  models: 'drm_prime_handle_to_fd_ioctl → drm_gem_prime_handle_to_fd (drm_prime.c), spec §8.2',
  checks: [
    'flags other than DRM_CLOEXEC | DRM_RDWR → -EINVAL',
    'no object at the handle → -ENOENT',
    'the file’s prime cache has a dma-buf for the handle → that one; an import object → its original dma-buf; an exported object → its dma-buf',
    'amdgpu_gem_prime_export: userptr or VM_ALWAYS_VALID object → -EPERM',
    'drm_prime_add_buf_handle, then a new fd (the lowest free) on the dma-buf',
  ],
  args: PRIME_HANDLE,
  out: ['fd'],
  run({ w, task, file }, a) {
    if (a.flags & ~(DRM_PRIME_FLAGS.CLOEXEC | DRM_PRIME_FLAGS.RDWR)) return -ERRNO.EINVAL;
    const gem = handleLookup(w, file.id, a.handle);
    if (gem === undefined) return -ERRNO.ENOENT;
    let dmabuf = primeByHandle(w, file.id, a.handle);
    if (dmabuf === undefined) {
      dmabuf = objectDmabuf(w, gem, a.flags);
      primeAdd(w, file.id, dmabuf, a.handle);
    }
    a.fd = installFd(w, task, dmabuf);
    return 0;
  },
});

// drm_prime_fd_to_handle_ioctl → drm_gem_prime_fd_to_handle (drm_prime.c), spec §8.2, §9.8
export const primeFdToHandle = registerDrm<PrimeArgs>({
  name: 'DRM_IOCTL_PRIME_FD_TO_HANDLE',
  models: 'drm_prime_fd_to_handle_ioctl → drm_gem_prime_fd_to_handle (drm_prime.c), spec §8.2',
  checks: [
    'dma_buf_get(fd): fd not open → -EBADF; not a dma-buf → -EINVAL',
    'the file’s prime cache knows the dma-buf → its handle (the object already has one here)',
    'amdgpu_gem_prime_import: same device → the exporter’s object; another device → a new GTT object importing the dma-buf',
    'drm_gem_handle_create_tail: the lowest free handle (the bo_va in the file’s VM is found or added); drm_prime_add_buf_handle',
  ],
  args: PRIME_HANDLE,
  out: ['handle'],
  run({ w, task, file }, a) {
    const f = fileOf(w, task, a.fd);
    if (!f) return -ERRNO.EBADF;
    if (f.kind !== 'dmabuf') return -ERRNO.EINVAL;
    const known = primeHandleOf(w, file.id, f.id);
    if (known !== undefined) {
      a.handle = known;
      return 0;
    }
    const handle = handleCreateAndPut(w, file.id, importObject(w, file.gpu_id, f.id));
    if (handle < 0) return handle;
    primeAdd(w, file.id, f.id, handle);
    a.handle = handle;
    return 0;
  },
});
