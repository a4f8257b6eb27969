/** The DRM core GEM ioctls of a render node: GEM_CLOSE and GEM_CHANGE_HANDLE (drm_gem.c, spec §8.2). */
import { gemBo, gemSend } from '../amdgpu/kernel/gem.js';
import { ERRNO } from '../../uapi/errno.js';
import { u32 } from '../schema.js';
import { registerDrm } from './dispatch.js';
import {
  INT_MAX,
  handleDelete,
  handleLookup,
  idrAllocExact,
  idrRemoveHandle,
  primeAdd,
  primeByHandle,
  primeRemove,
} from './file.js';

// drm_gem_close_ioctl → drm_gem_handle_delete (drm_gem.c), spec §8.2
export const gemClose = registerDrm<{ handle: number; pad: number }>({
  name: 'DRM_IOCTL_GEM_CLOSE',
  models: 'drm_gem_close_ioctl → drm_gem_handle_delete (drm_gem.c), spec §8.2',
  checks: [
    'no object at the handle (idr_replace finds nothing) → -EINVAL',
    'amdgpu_gem_object_close: the bo_va loses a reference (at 0 amdgpu_vm_bo_del removes it and its mappings); the prime entry goes; the last handle of the object drops its dma-buf reference; an object nothing refers to is freed',
  ],
  args: { handle: u32, pad: u32 },
  out: [],
  run: ({ w, file }, a) => handleDelete(w, file.id, a.handle),
});

// drm_gem_change_handle_ioctl (drm_gem.c, 6.18 + the 2026 fixes), spec §8.2
export const gemChangeHandle = registerDrm<{ handle: number; new_handle: number }>({
  name: 'DRM_IOCTL_GEM_CHANGE_HANDLE',
  models: 'drm_gem_change_handle_ioctl (drm_gem.c, 6.18 with the 2026 fixes), spec §8.2',
  checks: [
    'new_handle > INT_MAX (idr_alloc limitation) → -EINVAL',
    'no object at the old handle (drm_gem_object_lookup) → -ENOENT (the kernel’s order; spec §8.2 puts this last, as "attempt 4" does)',
    'handle == new_handle → 0',
    'idr_alloc(new_handle, new_handle + 1): taken, or new_handle 0 (below the idr base 1) → -ENOSPC (the idr error)',
    'the object has a dma-buf: the prime entry moves to the new handle; the old handle is removed → 0',
  ],
  args: { handle: u32, new_handle: u32 },
  out: [],
  run({ w, file }, a) {
    if (a.new_handle > INT_MAX) return -ERRNO.EINVAL;
    // The old handle is looked up before anything else, in 6.18 and in every fix since; only
    // "attempt 4", which also disables the ioctl, reserves the new handle first (spec §8.2's
    // order, which no enabled kernel has: docs/conformance.md "Spec errors found").
    const gem = handleLookup(w, file.id, a.handle);
    if (gem === undefined) return -ERRNO.ENOENT;
    if (a.handle === a.new_handle) return 0;
    const r = idrAllocExact(w, file.id, a.new_handle, gem);
    if (r < 0) return r;
    gemSend(w, gem, { type: 'HANDLE_MOVE', file: file.id, handle: a.handle, new_handle: a.new_handle });
    const c = gemBo(w, gem);
    const dmabuf = c.dmabuf ?? c.import_attach;
    if (dmabuf !== null) {
      primeAdd(w, file.id, dmabuf, a.new_handle);
      if (primeByHandle(w, file.id, a.handle) !== undefined) primeRemove(w, file.id, a.handle);
    }
    idrRemoveHandle(w, file.id, a.handle);
    return 0;
  },
});
