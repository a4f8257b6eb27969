/**
 * amdgpu_amdkfd_gpuvm.c: KFD BO allocation, mapping, freeing, dma-buf export and
 * import (spec §2.3, §7.2, §7.3).
 *
 * A KFD BO (kgd_mem, machines/kfd/bo.ts) uses a GEM object of the same kind as the render
 * node's (machines/amdgpu/gem-bo.ts, src/ioctls/amdgpu/kernel/gem.ts): the kgd_mem holds a
 * reference of it (its handle in the KFD client file). Mapping a KFD BO into a VM attaches it
 * (kfd_mem_attach: the bo_va of the object in that VM, shared with render-node handles of the
 * same object) and adds its mapping to the VM's index (src/world/vm.ts), where GEM_VA
 * mappings of the same VM live too.
 */
import { attachmentIn, type BoContext, isMappedIn } from '../../../../machines/kfd/bo.js';
import type { PddContext } from '../../../../machines/kfd/pdd.js';
import {
  createGem,
  DRM_FILE_PAGE_OFFSET_START as OFFSET_START,
  gemAttachDmabuf,
  gemKfdUnref,
  gemSend,
  kfdVramUsed,
  releaseDmabufFile,
  releaseGemIfUnused as releaseGem,
} from '../../amdgpu/kernel/gem.js';
import {
  boVaFind,
  boVaGet,
  boVaMappings,
  boVaPut,
  verifyParameters,
  vmMapChecked,
  vmOf,
  vmUnmap,
  vmUpdate,
} from '../../amdgpu/kernel/vm.js';
import { AMDGPU_GEM_CREATE as C, AMDGPU_GEM_DOMAIN as D, AMDGPU_VM, DRM_PRIME_FLAGS } from '../../amdgpu/uapi.js';
import { objectDmabuf } from '../../drm/prime.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../../../uapi/index.js';
import { fileGet, filePut } from '../../../world/fds.js';
import { contextOf, createObject, inState, send } from '../../../world/objects.js';
import type { Gem, OpenFile, Task, World } from '../../../world/types.js';
import { vmFirstOverlap } from '../../../world/vm.js';
import { bo, gpuById } from '../../../world/world.js';
import { fail } from '../../registry.js';

/** DRM_FILE_PAGE_OFFSET_START: render-node mmap offsets start above 4 GiB (drm_gem.c). */
export const DRM_FILE_PAGE_OFFSET_START = OFFSET_START;

export function pageAlign(size: bigint, page: number): bigint {
  const p = BigInt(page);
  return ((size + p - 1n) / p) * p;
}

/**
 * The GEM object of a KFD allocation (amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu →
 * amdgpu_gem_object_create): preferred domain = alloc_domain, bo->flags as the KFD flags
 * ask (VRAM: WIPE_ON_RELEASE and CPU_ACCESS_REQUIRED if PUBLIC else NO_CPU_ACCESS; userptr
 * and sg BOs: PREEMPTIBLE; COHERENT, EXT_COHERENT, UNCACHED, CONTIGUOUS carried over).
 */
export function newGem(w: World, gpuId: number, size: bigint, domain: Gem['domain'], allocFlags: number): string {
  const apu = gpuById(w, gpuId)?.is_apu === true;
  let flags = 0;
  if (domain === 'VRAM')
    flags = C.VRAM_WIPE_ON_RELEASE | (allocFlags & F.PUBLIC ? C.CPU_ACCESS_REQUIRED : C.NO_CPU_ACCESS);
  else if (domain === 'CPU') flags = C.PREEMPTIBLE;
  if (allocFlags & F.COHERENT) flags |= C.COHERENT;
  if (allocFlags & F.EXT_COHERENT) flags |= C.EXT_COHERENT;
  if (allocFlags & F.UNCACHED) flags |= C.UNCACHED;
  if (allocFlags & F.CONTIGUOUS && domain === 'VRAM') flags |= C.VRAM_CONTIGUOUS;
  const preferred = domain === 'VRAM' ? D.VRAM : domain === 'GTT' ? D.GTT : D.CPU;
  return createGem(w, {
    gpu_id: gpuId,
    size,
    preferred_domains: preferred,
    flags: flags >>> 0,
    page_alignment: 1,
    alloc_flags: allocFlags,
    userptr: (allocFlags & F.USERPTR) !== 0,
    import_attach: null,
    kfd_vram: domain === 'VRAM' && !apu ? size : 0n,
  });
}

export interface AllocRequest {
  va: bigint;
  size: bigint;
  flags: number;
  /** USERPTR: the CPU address (the ioctl's mmap_offset, or bo_priv.user_addr on restore). */
  user_addr: bigint;
  /** criu_resume: a restored userptr is not populated, only marked invalid. */
  criu_resume: boolean;
  /** A kernel BO (kfd_process_alloc_gpuvm), not a user allocation. */
  internal?: boolean;
}

/**
 * amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu: domain selection and the BO; returns the
 * kgd_mem object id (not yet in any idr).
 */
export function allocMemoryOfGpu(w: World, task: Task, gpuId: number, r: AllocRequest): string {
  const gpu = gpuById(w, gpuId)!;
  let domain: Gem['domain'];
  if (r.flags & F.VRAM) domain = gpu.is_apu ? 'GTT' : 'VRAM';
  else if (r.flags & F.GTT) domain = 'GTT';
  else if (r.flags & F.USERPTR) {
    if (r.user_addr === 0n) fail(-ERRNO.EINVAL);
    domain = 'CPU';
  } else if (r.flags & (F.DOORBELL | F.MMIO_REMAP)) {
    if (r.size > 0xffffffffn) fail(-ERRNO.EINVAL);
    // An sg BO: placed in GTT, but created with alloc_domain CPU (its preferred domain).
    domain = 'CPU';
  } else fail(-ERRNO.EINVAL);
  // AQL queue wrap-around workaround: allocate half, map it twice.
  const requested = r.flags & F.AQL_QUEUE_MEM ? r.size >> 1n : r.size;
  const size = pageAlign(requested, w.topology.page_size);
  // amdgpu_amdkfd_reserve_mem_limit: "Insufficient memory"
  if (domain === 'VRAM' && kfdVramUsed(w, gpuId) + size > gpu.vram_size) fail(-ERRNO.ENOMEM);
  const gem = newGem(w, gpuId, size, domain, r.flags);
  const input: Omit<BoContext, 'attachments' | 'mapped_to_gpu_memory' | 'dmabuf'> = {
    pid: task.pid,
    gpu_id: gpuId,
    va: r.va,
    size,
    alloc_flags: r.flags,
    gem,
    user_addr: r.flags & F.USERPTR ? r.user_addr : 0n,
    is_imported: false,
    internal: r.internal === true,
  };
  const id = createObject(w, 'kfd.bo', input);
  gemSend(w, gem, { type: 'KFD_REF', mem: id });
  // init_user_pages: with criu_resume the pages are fetched by the restore worker later.
  if (r.flags & F.USERPTR && r.criu_resume) send(w, id, { type: 'INVALIDATE_USERPTR' });
  return id;
}

/** kfd_process_alloc_gpuvm: a kernel BO (IB, CWSR) mapped on its own GPU, never in alloc_idr. */
export function allocInternalBo(w: World, task: Task, gpuId: number, va: bigint, size: bigint): string {
  const flags = (F.GTT | F.NO_SUBSTITUTE | F.WRITABLE | F.EXECUTABLE) >>> 0;
  const id = allocMemoryOfGpu(w, task, gpuId, {
    va,
    size,
    flags,
    user_addr: 0n,
    criu_resume: false,
    internal: true,
  });
  mapBoToVm(w, id, gpuId);
  return id;
}

/** The GPU VA range a BO occupies in a VM: an AQL queue BO is attached twice, back to back. */
export function mappedRange(b: BoContext): { start: bigint; end: bigint } {
  const times = b.alloc_flags & F.AQL_QUEUE_MEM ? 2n : 1n;
  return { start: b.va, end: b.va + b.size * times };
}

/** The VA of each attachment of a BO in one VM (kfd_mem_attach: AQL BOs get two, back to back). */
function attachmentVas(b: BoContext): bigint[] {
  return b.alloc_flags & F.AQL_QUEUE_MEM ? [b.va, b.va + b.size] : [b.va];
}

/**
 * The render-node file whose VM is the process's compute VM on a GPU: the pdd's drm_file,
 * or, while kfd_process_device_init_vm runs (the pdd is not yet updated), the file it is
 * making a compute VM of.
 */
export function computeVmFile(w: World, pid: number, gpuId: number): string {
  const task = w.tasks[pid];
  for (const id of task?.pdds ?? []) {
    const p = contextOf<PddContext>(w, id);
    if (p.gpu_id === gpuId && p.drm_file) return p.drm_file;
  }
  for (const f of Object.values(w.files))
    if (f.kind === 'drm' && f.gpu_id === gpuId && f.compute_vm_pid === pid) return f.id;
  throw new Error(`no compute VM of pid ${pid} on GPU ${gpuId}`);
}

/**
 * The mapping flags of a KFD mapping, in AMDGPU_VM_PAGE_* terms (get_pte_flags; spec §12 q7
 * assumes the mapping flags are the uapi flags): readable, writeable and executable as the
 * alloc flags say, MTYPE_UC for uncached or coherent memory.
 */
export function kfdMappingFlags(b: BoContext): number {
  let f = AMDGPU_VM.PAGE_READABLE;
  if (b.alloc_flags & F.WRITABLE) f |= AMDGPU_VM.PAGE_WRITEABLE;
  if (b.alloc_flags & F.EXECUTABLE) f |= AMDGPU_VM.PAGE_EXECUTABLE;
  if (b.alloc_flags & (F.UNCACHED | F.COHERENT | F.EXT_COHERENT)) f |= AMDGPU_VM.MTYPE_UC;
  return f;
}

/**
 * amdgpu_amdkfd_gpuvm_map_memory_to_gpu: attach (kfd_mem_attach: the bo_va of the object
 * in the VM, found or added, one reference per attachment) and map in a VM; an already
 * mapped attachment is skipped; a misaligned VA (amdgpu_vm_verify_parameters) or a VA range
 * already mapped in that VM — by a KFD BO or a GEM_VA mapping — → -EINVAL. An invalid
 * userptr is mapped without updating the page tables (its mapping stays pending).
 */
export function mapBoToVm(w: World, boId: string, vmGpuId: number): void {
  const b = bo(w, boId);
  if (isMappedIn(b, vmGpuId)) return;
  const vmFile = computeVmFile(w, b.pid, vmGpuId);
  const vm = vmOf(w, vmFile);
  const page = 4096n;
  const vas = attachmentVas(b);
  // Every attachment is checked before any is mapped: [first page, last page] of each.
  const ranges = vas.map((va): [bigint, bigint] => [va / page, va / page + (b.size - 1n) / page]);
  for (let i = 0; i < vas.length; i++) {
    if (verifyParameters(w.gems[b.gem]!.size, vas[i]!, 0n, b.size) !== 0) fail(-ERRNO.EINVAL);
    if (vmFirstOverlap(w, vm, ranges[i]![0], ranges[i]![1])) fail(-ERRNO.EINVAL);
  }
  const firstAttach = attachmentIn(b, vmGpuId) === undefined;
  if (firstAttach) for (let i = 0; i < vas.length; i++) boVaGet(w, vmFile, b.gem);
  const bv = boVaFind(w, vmFile, b.gem)!;
  send(w, boId, { type: 'MAP', vm: vmGpuId });
  for (const [start, last] of ranges) vmMapChecked(w, bv, start, last, 0n, kfdMappingFlags(b), boId);
  if (!inState(w, boId, 'live.pages.invalid')) vmUpdate(w, bv);
}

/**
 * amdgpu_amdkfd_gpuvm_unmap_memory_from_gpu: `ctx.n_vms == 0` → -EINVAL; amdgpu_vm_bo_unmap
 * of each attachment's VA (a mapping GEM_VA already removed is not an error).
 */
export function unmapBoFromVm(w: World, boId: string, vmGpuId: number): void {
  const b = bo(w, boId);
  if (!isMappedIn(b, vmGpuId)) fail(-ERRNO.EINVAL);
  send(w, boId, { type: 'UNMAP', vm: vmGpuId });
  const bv = boVaFind(w, computeVmFile(w, b.pid, vmGpuId), b.gem);
  if (bv) for (const va of attachmentVas(b)) vmUnmap(w, bv, va);
}

/**
 * The restore worker revalidated a userptr BO (amdgpu_amdkfd_restore_userptr_worker →
 * update_gpuvm_pte): its pending mappings become valid. For kfd.restore_userptr_worker.
 */
export function userptrValidated(w: World, boId: string): void {
  const b = bo(w, boId);
  for (const { vm } of b.attachments) {
    const bv = boVaFind(w, computeVmFile(w, b.pid, vm), b.gem);
    if (bv) vmUpdate(w, bv);
  }
}

/**
 * kfd_mem_detach of every attachment (at free): the bo_va loses the attachment's reference.
 * Mappings of this kgd_mem still in the bo_va at its attachment VAs are unmapped first (a
 * process teardown unmaps the kgd_mem without going through unmapBoFromVm).
 */
function detachAll(w: World, boId: string): void {
  const b = bo(w, boId);
  const vas = attachmentVas(b);
  for (const { vm } of b.attachments) {
    const vmFile = computeVmFile(w, b.pid, vm);
    const bv = boVaFind(w, vmFile, b.gem);
    if (!bv) continue;
    for (const m of boVaMappings(w, bv))
      if (m.kfd === boId && vas.includes(m.start * 4096n)) vmUnmap(w, bv, m.start * 4096n);
    for (let i = 0; i < vas.length && w.objects[bv]; i++) boVaPut(w, bv);
  }
}

/** Release what a dma-buf file holds once its last reference is gone (drm_gem_dmabuf_release). */
export function releaseDmabuf(w: World, f: OpenFile): void {
  releaseDmabufFile(w, f);
}

export function releaseGemIfUnused(w: World, gemId: string): void {
  releaseGem(w, gemId);
}

/**
 * amdgpu_amdkfd_gpuvm_free_memory_of_gpu: refuses a mapped BO (-EBUSY); returns the
 * size to subtract from vram_usage (spec §7.3).
 */
export function freeMemoryOfGpu(w: World, boId: string): bigint {
  const b = bo(w, boId);
  if (b.mapped_to_gpu_memory > 0) fail(-ERRNO.EBUSY);
  const gem = w.gems[b.gem]!;
  const gpu = gpuById(w, b.gpu_id)!;
  const accounted = (gem.domain === 'VRAM' && !b.is_imported) || (gpu.is_apu && gem.domain === 'GTT');
  detachAll(w, boId);
  send(w, boId, { type: 'FREE' });
  gemKfdUnref(w, gem.id, boId);
  if (b.dmabuf) filePut(w, b.dmabuf, (f) => releaseDmabufFile(w, f));
  return accounted ? b.size : 0n;
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

/** Whether a BO is mapped in any VM (the FREE guard's question). */
export function mappedOnAnyGpu(w: World, boId: string): boolean {
  return inState(w, boId, 'live.mapping.mapped');
}
