import { ERRNO } from '../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F, KFD_MMAP_GPU_ID, KFD_MMAP_TYPE, MAKE_HANDLE } from '../../uapi/index.js';
import { dropObject, send } from '../../world/objects.js';
import { bo, gpuById, pdd, pddByUserGpuId } from '../../world/world.js';
import { fail, register } from '../registry.js';
import { flags, u32, u64 } from '../schema.js';
import { allocMemoryOfGpu, freeMemoryOfGpu, pageAlign } from './kernel/gpuvm.js';
import { bindProcessToDevice, createObjHandle } from './kernel/process.js';
import { svmHitsBytes } from './kernel/svm.js';

interface AllocArgs {
  va_addr: bigint;
  size: bigint;
  handle: bigint;
  mmap_offset: bigint;
  gpu_id: number;
  flags: number;
}

// kfd_ioctl_alloc_memory_of_gpu (kfd_chardev.c), spec §7.2, §2.3, §7.3
export const allocMemoryOfGpuIoctl = register<AllocArgs>({
  name: 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_alloc_memory_of_gpu (kfd_chardev.c), spec §7.2',
  checks: [
    'size == 0 → -EINVAL',
    'GPU VA range overlaps an SVM range (except VRAM at va_addr 0) → -EADDRINUSE',
    'USERPTR CPU range overlaps an SVM range → -EADDRINUSE',
    'no pdd for gpu_id (user id) → -EINVAL',
    'PUBLIC VRAM on a device without large BAR → -EINVAL',
    'kfd_bind_process_to_device: no VM → -ENODEV',
    'DOORBELL: size != process doorbell slice → -EINVAL',
    'MMIO_REMAP: size != PAGE_SIZE → -EINVAL; no remap bus address or PAGE_SIZE > 4096 → -ENOMEM',
    'amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu: USERPTR with mmap_offset 0 → -EINVAL; no memory type → -EINVAL; VRAM beyond vram_size → -ENOMEM; USERPTR whose CPU range wraps past 2^64 → -EOVERFLOW (init_user_pages → amdgpu_hmm_register)',
  ],
  args: {
    va_addr: u64,
    size: u64,
    handle: u64,
    mmap_offset: u64,
    gpu_id: u32,
    flags: flags(F, 'KFD_IOC_ALLOC_MEM_FLAGS_'),
  },
  out: ['handle', 'mmap_offset'],
  run({ w, task }, a) {
    const page = BigInt(w.topology.page_size);
    if (a.size === 0n) return -ERRNO.EINVAL;
    const vramAtZero = (a.flags & F.VRAM) !== 0 && a.va_addr === 0n;
    if (!vramAtZero && svmHitsBytes(w, task, a.va_addr, a.size, page)) return -ERRNO.EADDRINUSE;
    if (a.flags & F.USERPTR && svmHitsBytes(w, task, a.mmap_offset, a.size, page)) return -ERRNO.EADDRINUSE;
    const pddId = pddByUserGpuId(w, task, a.gpu_id);
    if (!pddId) return -ERRNO.EINVAL;
    const gpuId = pdd(w, pddId).gpu_id;
    const gpu = gpuById(w, gpuId)!;
    if (a.flags & F.PUBLIC && a.flags & F.VRAM && !gpu.large_bar) return -ERRNO.EINVAL;
    bindProcessToDevice(w, task, gpuId);
    if (a.flags & F.DOORBELL) {
      if (a.size !== BigInt(gpu.doorbell_slice_size)) return -ERRNO.EINVAL;
      // kfd_get_process_doorbells allocates the process's doorbells on demand.
      send(w, pddId, { type: 'ALLOC_DOORBELLS' });
    } else if (a.flags & F.MMIO_REMAP) {
      if (a.size !== page) return -ERRNO.EINVAL;
      if (gpu.mmio_remap_bus_addr === 0n || w.topology.page_size > 4096) return -ERRNO.ENOMEM;
    }
    const boId = allocMemoryOfGpu(w, task, gpuId, {
      va: a.va_addr,
      size: a.size,
      flags: a.flags,
      user_addr: a.mmap_offset,
      criu_resume: false,
    });
    const idr = createObjHandle(w, pddId, boId);
    if (idr === null) {
      freeMemoryOfGpu(w, boId);
      dropObject(w, boId);
      fail(-ERRNO.EFAULT);
    }
    if (a.flags & F.VRAM) {
      const size = a.flags & F.AQL_QUEUE_MEM ? a.size >> 1n : a.size;
      send(w, pddId, { type: 'VRAM_USAGE_ADD', delta: pageAlign(size, w.topology.page_size) });
    }
    a.handle = MAKE_HANDLE(a.gpu_id, idr);
    a.mmap_offset =
      a.flags & F.MMIO_REMAP ? KFD_MMAP_TYPE.MMIO | KFD_MMAP_GPU_ID(a.gpu_id) : w.gems[bo(w, boId).gem]!.mmap_offset;
    return 0;
  },
});
