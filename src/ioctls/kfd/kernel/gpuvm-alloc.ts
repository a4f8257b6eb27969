/**
 * amdgpu_amdkfd_gpuvm.c: allocating and freeing a kgd_mem — amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu
 * (with amdgpu_amdkfd_reserve_mem_limit and init_user_pages), kfd_process_alloc_gpuvm (a
 * kernel BO), amdgpu_amdkfd_gpuvm_free_memory_of_gpu (spec §2.3, §7.2 ALLOC/FREE, §7.3).
 *
 * A KFD BO (kgd_mem, machines/kfd/bo.ts) uses a GEM object of the same kind as the render
 * node's (machines/amdgpu/gem-bo.ts, src/ioctls/amdgpu/kernel/gem.ts): the kgd_mem holds a
 * reference of it (its handle in the KFD client file).
 */
import type { BoContext } from '../../../../machines/kfd/bo.js';
import {
  createGem,
  gemKfdUnref,
  gemSend,
  kfdVramUsed,
  releaseDmabufFile,
  userptrRangeWraps,
} from '../../amdgpu/kernel/gem.js';
import { AMDGPU_GEM_CREATE as C, AMDGPU_GEM_DOMAIN as D } from '../../amdgpu/uapi.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../../../uapi/index.js';
import { filePut } from '../../../world/fds.js';
import { createObject, send } from '../../../world/objects.js';
import type { Gem, Task, World } from '../../../world/types.js';
import { bo, gpuById } from '../../../world/world.js';
import { fail } from '../../registry.js';
import { detachAll, mapBoToVm } from './gpuvm-attach.js';

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

/**
 * amdgpu_amdkfd_gpuvm_pin_bo(bo, GTT) of a DOORBELL or MMIO_REMAP BO at ALLOC, after which
 * the kernel sets `allowed_domains = preferred_domains = GTT`: from then on the BO reads as a
 * GTT BO (IMPORT_DMABUF and GET_DMABUF_INFO accept it, FREE on an APU counts it). Its
 * bo->flags stay those of its CPU-domain creation (PREEMPTIBLE).
 */
function pinSgBoInGtt(gem: Gem): void {
  gem.preferred_domains = D.GTT;
  gem.domain = 'GTT';
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
    // An sg BO created with alloc_domain CPU; pinned in GTT below.
    domain = 'CPU';
  } else fail(-ERRNO.EINVAL);
  // AQL queue wrap-around workaround: allocate half, map it twice.
  const requested = r.flags & F.AQL_QUEUE_MEM ? r.size >> 1n : r.size;
  const size = pageAlign(requested, w.topology.page_size);
  // amdgpu_amdkfd_reserve_mem_limit: "Insufficient memory"
  if (domain === 'VRAM' && kfdVramUsed(w, gpuId) + size > gpu.vram_size) fail(-ERRNO.ENOMEM);
  // init_user_pages → amdgpu_hmm_register → mmu_interval_notifier_insert: the CPU range of a
  // userptr must not wrap past 2^64 (-EOVERFLOW); the BO made before it is released
  if (r.flags & F.USERPTR && userptrRangeWraps(r.user_addr, size)) fail(-ERRNO.EOVERFLOW);
  const gem = newGem(w, gpuId, size, domain, r.flags);
  if (r.flags & (F.DOORBELL | F.MMIO_REMAP)) pinSgBoInGtt(w.gems[gem]!);
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

/**
 * amdgpu_amdkfd_gpuvm_free_memory_of_gpu: refuses a mapped BO (-EBUSY); returns the
 * size to subtract from vram_usage (spec §7.3), grouped as the kernel groups it:
 * `!is_imported && (VRAM || (APU && GTT))` (the spec's "(VRAM and not imported) or
 * (APU and GTT)" would subtract an import that added nothing; docs/conformance.md).
 */
export function freeMemoryOfGpu(w: World, boId: string): bigint {
  const b = bo(w, boId);
  if (b.mapped_to_gpu_memory > 0) fail(-ERRNO.EBUSY);
  const gem = w.gems[b.gem]!;
  const gpu = gpuById(w, b.gpu_id)!;
  const accounted = !b.is_imported && (gem.domain === 'VRAM' || (gpu.is_apu && gem.domain === 'GTT'));
  detachAll(w, boId);
  send(w, boId, { type: 'FREE' });
  gemKfdUnref(w, gem.id, boId);
  if (b.dmabuf) filePut(w, b.dmabuf, (f) => releaseDmabufFile(w, f));
  return accounted ? b.size : 0n;
}
