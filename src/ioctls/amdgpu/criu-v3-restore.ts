/**
 * RESTORE of the 2025 amdgpu CRIU-ioctl proposal (amdgpu_criu_restore, spec §8.1; criu-v3.ts),
 * defects included: each bucket not skipped becomes a new BO at the lowest free handle (the
 * saved handle is not restored), the saved handle is exported, and the BO's vm privs are
 * mapped; an IS_IMPORT bucket dereferences an uninitialised pointer.
 */
import { ERRNO } from '../../uapi/errno.js';
import type { DrmKernel } from '../drm/dispatch.js';
import { handleCreate, handleLookup } from '../drm/file.js';
import { KernelReturn } from '../registry.js';
import { primeHandleToFd } from './criu-v3-file.js';
import { type CriuV3Args, type CriuV3Bucket, type CriuV3VmPriv, decodeCriuV3Priv, SRC } from './criu-v3-uapi.js';
import { createGem, gemOf, gemSend } from './kernel/gem.js';
import { boVaFind, boVaGet, verifyParameters, vmMap, vmUpdate } from './kernel/vm.js';
import { type Defect, oops } from './oops.js';
import { AMDGPU_CRIU_BO_FLAG as FLAG, AMDGPU_GPU_PAGE_SIZE as PAGE, DRM_PRIME_FLAGS } from './uapi.js';

// amdgpu_criu_restore (amdgpu_criu.c:269-426, proposal v3), spec §8.1
export function restore(k: DrmKernel, a: CriuV3Args, defects: Defect[]): number {
  const numBos = a.num_bos ?? a.bos?.length ?? 0;
  const numObjs = a.num_objs ?? 0;
  // L286-312: copy_from_user of the buckets and of both priv arrays; short → -EINVAL.
  if (numBos > 0 && (a.bos === null || a.bos.length < numBos)) return -ERRNO.EINVAL;
  const priv = decodeCriuV3Priv(a.priv_data, numBos, numObjs);
  if (priv === null) return -ERRNO.EINVAL;
  const buckets = (a.bos ?? []).slice(0, numBos).map((b) => ({ ...b }));
  for (let i = 0; i < numBos; i++) {
    const b = buckets[i]!;
    const idr = priv.bos[i]!.idr_handle;
    // L321: "Either this bo is waiting for a dmabuf_fd to be restored or it has already been restored".
    if (b.flags & FLAG.SKIP) continue;
    if (b.flags & FLAG.IS_IMPORT) {
      // L353-358: `struct drm_gem_object *obj; … bo = gem_to_amdgpu_bo(obj); if (bo->kfd_bo)`.
      a.bos = null;
      return oops(
        k.w,
        k.call,
        `${SRC}:358 amdgpu_criu_restore`,
        `bo->kfd_bo reads through bo = gem_to_amdgpu_bo(obj) (line 356), and obj (line 353) is never set: NULL pointer dereference (handle ${idr}, IS_IMPORT)`,
      );
    }
    const restored = restoreBo(k, b, idr, defects);
    mapVmPrivs(k, priv.vms, idr, restored, defects);
  }
  // L410: copy_to_user of the buckets (restored_offset, dmabuf_fd); its result is the return value.
  a.bos = buckets;
  return 0;
}

/** L334-351: a new BO for a bucket that is not IS_IMPORT, its restored_offset and dmabuf_fd; returns the object. */
function restoreBo(k: DrmKernel, b: CriuV3Bucket, idr: number, defects: Defect[]): string {
  const { w, file } = k;
  // L334: amdgpu_gem_object_create(adev, size, 1, preferred_domains, alloc_flags, device, …).
  const page = BigInt(w.topology.page_size);
  const gem = createGem(w, {
    gpu_id: file.gpu_id,
    size: ((b.size + page - 1n) / page) * page,
    preferred_domains: b.preferred_domains,
    flags: b.alloc_flags,
    page_alignment: 1,
    alloc_flags: 0,
    userptr: false,
    import_attach: null,
    kfd_vram: 0n,
  });
  // L341: drm_gem_handle_create(data, obj, &handle), result ignored; the creation reference is never put.
  const handle = handleCreate(w, file.id, gem);
  gemSend(w, gem, { type: 'LEAK_REF' });
  defects.push({
    where: `${SRC}:341 amdgpu_criu_restore`,
    what: `the reference amdgpu_gem_object_create returned is never dropped (no drm_gem_object_put): the object of handle ${handle} can never be freed`,
  });
  // L342: drm_prime_change_buf_handle looks the handle up by obj->dma_buf, which a new object does not have.
  if (handle !== idr)
    defects.push({
      where: `${SRC}:342 amdgpu_criu_restore`,
      what: `drm_prime_change_buf_handle(…, ${idr}) → -ENOENT (a new object has no dma-buf to find its handle by), result ignored: the BO stays at handle ${handle}, not ${idr}`,
    });
  // L344
  b.restored_offset = gemOf(w, gem).mmap_offset;
  b.dmabuf_fd = exportSavedHandle(k, idr, gem, defects);
  return gem;
}

/** L346-351: export of the *saved* handle, result ignored; prime_fd is 0 if it fails. */
function exportSavedHandle({ w, task, file }: DrmKernel, idr: number, gem: string, defects: Defect[]): number {
  const target = handleLookup(w, file.id, idr);
  if (target === undefined) {
    defects.push({
      where: `${SRC}:346 amdgpu_criu_restore`,
      what: `drm_gem_prime_handle_to_fd of handle ${idr} → -ENOENT (no object there), result ignored: dmabuf_fd = 0`,
    });
    return 0;
  }
  try {
    const primeFd = primeHandleToFd(w, task, file.id, idr, target, DRM_PRIME_FLAGS.RDWR);
    if (target !== gem)
      defects.push({
        where: `${SRC}:346 amdgpu_criu_restore`,
        what: `handle ${idr} is another object (restored earlier at the lowest free handle): dmabuf_fd ${primeFd} exports the wrong BO`,
      });
    return primeFd;
  } catch (e) {
    if (!(e instanceof KernelReturn)) throw e;
    defects.push({
      where: `${SRC}:346 amdgpu_criu_restore`,
      what: `drm_gem_prime_handle_to_fd of handle ${idr} → ${e.ret}, result ignored: dmabuf_fd = 0`,
    });
    return 0;
  }
}

/** L383-406: map every vm priv of handle `idr` into the VM of the file, a failed map ignored. */
function mapVmPrivs(
  { w, file }: DrmKernel,
  vms: readonly CriuV3VmPriv[],
  idr: number,
  restored: string,
  defects: Defect[],
): void {
  for (const m of vms) {
    if (m.idr_handle !== idr) continue;
    const bv = boVaFind(w, file.id, restored) ?? boVaGet(w, file.id, restored);
    const saddr = m.start * PAGE;
    const size = (m.last - m.start + 1n) * PAGE;
    // L396: amdgpu_vm_bo_map(...), result ignored.
    let r = verifyParameters(gemOf(w, restored).size, saddr, m.offset, size);
    if (r === 0) r = vmMap(w, bv, saddr, m.offset, size, Number(m.flags & 0xffffffffn), null);
    if (r !== 0)
      defects.push({
        where: `${SRC}:396 amdgpu_criu_restore`,
        what: `amdgpu_vm_bo_map of pages ${m.start}-${m.last} → ${r}, result ignored: the mapping is missing and RESTORE returns 0`,
      });
    // L401, L403: amdgpu_vm_bo_update / amdgpu_vm_update_pdes (results overwritten).
    vmUpdate(w, bv);
  }
}
