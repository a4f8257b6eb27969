/**
 * The GEM side of a drm_file (drm_gem.c, drm_prime.c, amdgpu_gem.c): its handle IDR, its
 * prime bookkeeping (dma-buf ↔ handle), and what opening and closing a handle does to the
 * object and to the file's VM (amdgpu_gem_object_open / _close).
 */
import { boVaFind, boVaGet, boVaPut, drmPriv } from '../amdgpu/kernel/vm.js';
import { gemBo, gemHandleDeleted, gemSend, releaseDmabufFile, releaseGemIfUnused } from '../amdgpu/kernel/gem.js';
import { ERRNO } from '../../uapi/errno.js';
import { fileGet, filePut } from '../../world/fds.js';
import { idrAllocIn, idrRemoveIn } from '../../world/idr.js';
import { primeIndex, primeIndexAdd, primeIndexRemove } from './prime-index.js';
import type { World } from '../../world/types.js';

/** idr_alloc(&file_priv->object_idr, NULL, 1, 0): handles are 1..INT_MAX. */
export const INT_MAX = 0x7fffffff;

/** The object behind a handle of a file (drm_gem_object_lookup), if any. */
export function handleLookup(w: World, fileId: string, handle: number): string | undefined {
  return w.drm?.[fileId]?.object_idr[handle];
}

/**
 * drm_gem_handle_create_tail: the lowest free handle, the object's handle count, and
 * amdgpu_gem_object_open (the bo_va of the object in the file's VM, found or added).
 * Returns the handle, or -ENOSPC when the IDR is full.
 */
export function handleCreate(w: World, fileId: string, gem: string): number {
  // idr_alloc(&file_priv->object_idr, NULL, 1, 0), then idr_replace with the object.
  const handle = idrAllocIn(drmPriv(w, fileId).object_idr, gem, 1, INT_MAX + 1);
  if (handle === null) return -ERRNO.ENOSPC;
  gemSend(w, gem, { type: 'HANDLE_CREATE', file: fileId, handle });
  boVaGet(w, fileId, gem);
  return handle;
}

/**
 * drm_gem_handle_create, then drm_gem_object_put of the reference the caller got with a new
 * or imported object (GEM_CREATE, GEM_USERPTR, PRIME_FD_TO_HANDLE): the handle holds the
 * object now, so when no handle could be made the object goes unless something else holds
 * it. Returns the handle or the negative errno.
 */
export function handleCreateAndPut(w: World, fileId: string, gem: string): number {
  const handle = handleCreate(w, fileId, gem);
  if (handle < 0) releaseGemIfUnused(w, gem);
  return handle;
}

/**
 * idr_alloc(&file_priv->object_idr, obj, handle, handle + 1): the exact handle, or the idr's
 * error when it is taken (-ENOSPC). Used by GEM_CHANGE_HANDLE; the object keeps its handle count.
 */
export function idrAllocExact(w: World, fileId: string, handle: number, gem: string): number {
  const p = drmPriv(w, fileId);
  // object_idr has base 1 (idr_init_base): idr_alloc(0, 1) is out of range, -ENOSPC since
  // "idr: fix idr_alloc() returning an ID out of range".
  if (handle < 1) return -ERRNO.ENOSPC;
  if (p.object_idr[handle] !== undefined) return -ERRNO.ENOSPC;
  p.object_idr[handle] = gem;
  return handle;
}

export function idrRemoveHandle(w: World, fileId: string, handle: number): void {
  idrRemoveIn(drmPriv(w, fileId).object_idr, handle);
}

/** drm_prime_lookup_buf_by_handle */
export function primeByHandle(w: World, fileId: string, handle: number): string | undefined {
  return w.drm?.[fileId]?.prime[handle];
}

/** drm_prime_lookup_buf_handle(prime, dma_buf): the (lowest) handle recorded for the dma-buf. */
export function primeHandleOf(w: World, fileId: string, dmabuf: string): number | undefined {
  const prime = w.drm?.[fileId]?.prime;
  return prime === undefined ? undefined : primeIndex(prime).get(dmabuf)?.[0];
}

/** drm_prime_add_buf_handle: the file's cache holds a reference of the dma-buf. */
export function primeAdd(w: World, fileId: string, dmabuf: string, handle: number): void {
  const p = drmPriv(w, fileId);
  // The index is derived from the record: built (if this record has none yet) before the change.
  const index = primeIndex(p.prime);
  const old = p.prime[handle];
  p.prime[handle] = dmabuf;
  if (old !== undefined) primeIndexRemove(index, old, handle);
  primeIndexAdd(index, dmabuf, handle);
  fileGet(w, dmabuf);
  if (old !== undefined) filePut(w, old, (f) => releaseDmabufFile(w, f));
}

/** drm_prime_remove_buf_handle: the entry of a handle goes, with its dma-buf reference. */
export function primeRemove(w: World, fileId: string, handle: number): void {
  const p = drmPriv(w, fileId);
  const dmabuf = p.prime[handle];
  if (dmabuf === undefined) return;
  const index = primeIndex(p.prime);
  delete p.prime[handle];
  primeIndexRemove(index, dmabuf, handle);
  filePut(w, dmabuf, (f) => releaseDmabufFile(w, f));
}

/**
 * drm_gem_handle_delete → drm_gem_object_release_handle: amdgpu_gem_object_close (the
 * bo_va loses a reference, and goes with its mappings at 0), the prime entry, the handle
 * count (at 0 the object's dma-buf reference), the handle. Unknown handle → -EINVAL.
 */
export function handleDelete(w: World, fileId: string, handle: number): number {
  const p = drmPriv(w, fileId);
  const gem = p.object_idr[handle];
  if (gem === undefined) return -ERRNO.EINVAL;
  const bv = boVaFind(w, fileId, gem);
  if (bv) boVaPut(w, bv);
  idrRemoveIn(p.object_idr, handle);
  gemHandleDeleted(w, gem, fileId, handle);
  primeRemove(w, fileId, handle);
  return 0;
}

/**
 * drm_release → drm_gem_release (every handle, in IDR order) and amdgpu_driver_postclose_kms
 * (the PRT bo_va, then the VM). Called for files whose last reference went.
 */
export function releaseDrmFile(w: World, fileId: string): void {
  const p = w.drm?.[fileId];
  if (!p) return;
  for (const h of Object.keys(p.object_idr)
    .map(Number)
    .sort((a, b) => a - b))
    handleDelete(w, fileId, h);
  if (p.vm.prt_va) boVaPut(w, p.vm.prt_va);
  // bo_vas still referenced by KFD attachments cannot exist: a pdd holds the file open.
  delete w.drm![fileId];
}

/**
 * Release the GEM state of render-node files that were closed for the last time. The
 * file layer (src/ioctls/fs.ts releaseFile) does not call releaseDrmFile yet, so the
 * render-node handlers run this before they look at any file.
 */
export function releaseDeadDrmFiles(w: World): void {
  if (!w.drm) return;
  for (const id of Object.keys(w.drm)) if (!w.files[id]) releaseDrmFile(w, id);
}

/** Whether the object has a handle in the file (for GEM_CHANGE_HANDLE's object check). */
export function hasHandle(w: World, fileId: string, gem: string, handle: number): boolean {
  return gemBo(w, gem).handles[fileId]?.includes(handle) === true;
}
