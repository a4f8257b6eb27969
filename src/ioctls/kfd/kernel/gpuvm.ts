/**
 * amdgpu_amdkfd_gpuvm.c: KFD BO allocation, mapping, freeing, dma-buf export and
 * import (spec §2.3, §7.2, §7.3).
 */
import type { BoContext } from '../../../../machines/kfd/bo.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../../../uapi/index.js';
import { fileGet, filePut, newFile } from '../../../world/fds.js';
import { createObject, inState, send } from '../../../world/objects.js';
import type { Gem, OpenFile, Task, World } from '../../../world/types.js';
import { bo, gpuById } from '../../../world/world.js';
import { fail } from '../../registry.js';

/** DRM_FILE_PAGE_OFFSET_START: render-node mmap offsets start above 4 GiB (drm_gem.c). */
export const DRM_FILE_PAGE_OFFSET_START = 0x100000000n;

export function pageAlign(size: bigint, page: number): bigint {
  const p = BigInt(page);
  return ((size + p - 1n) / p) * p;
}

/** amdgpu_bo_create: a GEM object with the next render-node mmap offset of its device. */
export function newGem(w: World, gpuId: number, size: bigint, domain: Gem['domain'], allocFlags: number): string {
  const id = `gem#${w.next.gem}`;
  w.next.gem += 1;
  const used = w.next.mmap[gpuId] ?? 0n;
  w.next.mmap[gpuId] = used + size;
  w.gems[id] = {
    id,
    gpu_id: gpuId,
    size,
    domain,
    alloc_flags: allocFlags,
    mmap_offset: DRM_FILE_PAGE_OFFSET_START + used,
    content: {},
    dmabuf: null,
    kgd_mems: [],
  };
  return id;
}

/** VRAM allocated on a device, for amdgpu_amdkfd_reserve_mem_limit. */
function vramAllocated(w: World, gpuId: number): bigint {
  let sum = 0n;
  for (const g of Object.values(w.gems)) if (g.gpu_id === gpuId && g.domain === 'VRAM') sum += g.size;
  return sum;
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
  if (domain === 'VRAM' && vramAllocated(w, gpuId) + size > gpu.vram_size) fail(-ERRNO.ENOMEM);
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
  w.gems[gem]!.kgd_mems.push(id);
  // init_user_pages: with criu_resume the pages are fetched by the restore worker later.
  if (r.flags & F.USERPTR && r.criu_resume) send(w, id, { type: 'INVALIDATE_USERPTR' });
  return id;
}

/** kfd_process_alloc_gpuvm: a kernel BO (IB, CWSR) mapped on its own GPU, never in alloc_idr. */
export function allocInternalBo(w: World, task: Task, gpuId: number, va: bigint, size: bigint): string {
  const flags = F.GTT | F.NO_SUBSTITUTE | F.WRITABLE | F.EXECUTABLE;
  const id = allocMemoryOfGpu(w, task, gpuId, {
    va,
    size,
    flags,
    user_addr: 0n,
    criu_resume: false,
    internal: true,
  });
  send(w, id, { type: 'MAP', vm: gpuId });
  return id;
}

/** The GPU VA range a BO occupies in a VM: an AQL queue BO is attached twice, back to back. */
export function mappedRange(b: BoContext): { start: bigint; end: bigint } {
  const times = b.alloc_flags & F.AQL_QUEUE_MEM ? 2n : 1n;
  return { start: b.va, end: b.va + b.size * times };
}

/** amdgpu_vm_bo_map: "bo %p va … conflict with …" when another mapping in the VM overlaps. */
function vmRangeInUse(w: World, boId: string, vmGpuId: number): boolean {
  const me = bo(w, boId);
  const { start, end } = mappedRange(me);
  for (const [id, rec] of Object.entries(w.objects)) {
    if (id === boId || rec.kind !== 'kfd.bo') continue;
    const other = rec.context as BoContext;
    if (other.pid !== me.pid || !other.attachments[vmGpuId]?.is_mapped) continue;
    const r = mappedRange(other);
    if (r.start < end && start < r.end) return true;
  }
  return false;
}

/**
 * amdgpu_amdkfd_gpuvm_map_memory_to_gpu: attach and map in a VM; an already mapped
 * attachment is skipped; a VA range already mapped by another BO → -EINVAL.
 */
export function mapBoToVm(w: World, boId: string, vmGpuId: number): void {
  if (bo(w, boId).attachments[vmGpuId]?.is_mapped) return;
  if (vmRangeInUse(w, boId, vmGpuId)) fail(-ERRNO.EINVAL);
  send(w, boId, { type: 'MAP', vm: vmGpuId });
}

/** amdgpu_amdkfd_gpuvm_unmap_memory_from_gpu: `ctx.n_vms == 0` → -EINVAL. */
export function unmapBoFromVm(w: World, boId: string, vmGpuId: number): void {
  if (!bo(w, boId).attachments[vmGpuId]?.is_mapped) fail(-ERRNO.EINVAL);
  send(w, boId, { type: 'UNMAP', vm: vmGpuId });
}

/** Release what a dma-buf file holds once its last reference is gone. */
export function releaseDmabuf(w: World, f: OpenFile): void {
  if (f.kind !== 'dmabuf') return;
  const gem = w.gems[f.gem];
  if (!gem) return;
  gem.dmabuf = null;
  for (const m of gem.kgd_mems) if (bo(w, m).dmabuf === f.id) send(w, m, { type: 'DMABUF_RELEASED' });
  releaseGemIfUnused(w, gem.id);
}

export function releaseGemIfUnused(w: World, gemId: string): void {
  const gem = w.gems[gemId];
  if (gem && gem.kgd_mems.length === 0 && gem.dmabuf === null) delete w.gems[gemId];
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
  send(w, boId, { type: 'FREE' });
  gem.kgd_mems = gem.kgd_mems.filter((m) => m !== boId);
  if (b.dmabuf) filePut(w, b.dmabuf, (f) => releaseDmabuf(w, f));
  releaseGemIfUnused(w, gem.id);
  return accounted ? b.size : 0n;
}

/**
 * amdgpu_amdkfd_gpuvm_export_dmabuf (kfd_mem_export_dmabuf): one dma-buf per BO,
 * cached in the kgd_mem (which holds a reference until it is freed); the caller
 * installs an fd, which takes a reference of its own.
 */
export function exportDmabuf(w: World, boId: string): string {
  const b = bo(w, boId);
  // amdgpu_gem_prime_export: userptr BOs cannot be exported.
  if (b.alloc_flags & F.USERPTR) fail(-ERRNO.EPERM);
  const gem = w.gems[b.gem]!;
  let file = b.dmabuf ?? gem.dmabuf;
  if (!file) {
    file = newFile<'dmabuf'>(w, { kind: 'dmabuf', gem: gem.id, flags: 0 });
    gem.dmabuf = file;
  }
  if (!b.dmabuf) {
    fileGet(w, file);
    send(w, boId, { type: 'EXPORT', dmabuf: file });
  }
  return file;
}

/** amdgpu_amdkfd_gpuvm_import_dmabuf_fd: a new kgd_mem sharing the exporter's GEM object. */
export function importDmabuf(w: World, task: Task, gpuId: number, dmabufFile: string, va: bigint): string {
  const f = w.files[dmabufFile];
  if (!f || f.kind !== 'dmabuf') fail(-ERRNO.EINVAL);
  const gem = w.gems[f.gem]!;
  if (gem.domain !== 'VRAM' && gem.domain !== 'GTT') fail(-ERRNO.EINVAL);
  const flags = ((gem.domain === 'VRAM' ? F.VRAM : F.GTT) | F.WRITABLE | F.EXECUTABLE) >>> 0;
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
  gem.kgd_mems.push(id);
  return id;
}

/** Whether a BO is mapped in any VM (the FREE guard's question). */
export function mappedOnAnyGpu(w: World, boId: string): boolean {
  return inState(w, boId, 'live.mapping.mapped');
}
