/** The three dma-buf ioctls of /dev/kfd: export, import, info (spec §7.2). */
import { ERRNO } from '../../uapi/errno.js';
import { AMDGPU_GEM_CREATE } from '../amdgpu/uapi.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F, GET_GPU_ID, GET_IDR_HANDLE, MAKE_HANDLE } from '../../uapi/index.js';
import { installFd } from '../../world/fds.js';
import { dropObject } from '../../world/objects.js';
import { boByHandle, fileOf, gpuById, pdd, pddByGpuId, pddByUserGpuId } from '../../world/world.js';
import { fail, register } from '../registry.js';
import { flags, u32, u64 } from '../schema.js';
import { exportDmabuf, freeMemoryOfGpu, importDmabuf } from './kernel/gpuvm.js';
import { bindProcessToDevice, createObjHandle } from './kernel/process.js';

// kfd_ioctl_export_dmabuf (kfd_chardev.c), spec §7.2
export const exportDmabufIoctl = register<{ handle: bigint; flags: number; dmabuf_fd: number }>({
  name: 'AMDKFD_IOC_EXPORT_DMABUF',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_export_dmabuf (kfd_chardev.c), spec §7.2',
  checks: [
    'kfd_device_by_id(GET_GPU_ID(handle)) — the ACTUAL device id — missing → -EINVAL',
    'no pdd for that device → -EINVAL',
    'no BO at the handle → -EINVAL',
    'amdgpu_amdkfd_gpuvm_export_dmabuf: userptr → -EPERM',
  ],
  args: { handle: u64, flags: u32, dmabuf_fd: u32 },
  out: ['dmabuf_fd'],
  run({ w, task }, a) {
    const gpuId = GET_GPU_ID(a.handle);
    if (!gpuById(w, gpuId)) return -ERRNO.EINVAL;
    const pddId = pddByGpuId(w, task, gpuId);
    if (!pddId) return -ERRNO.EINVAL;
    const boId = boByHandle(w, pddId, GET_IDR_HANDLE(a.handle));
    if (!boId) return -ERRNO.EINVAL;
    const file = exportDmabuf(w, boId);
    a.dmabuf_fd = installFd(w, task, file);
    return 0;
  },
});

interface ImportArgs {
  va_addr: bigint;
  handle: bigint;
  gpu_id: number;
  dmabuf_fd: number;
}

// kfd_ioctl_import_dmabuf (kfd_chardev.c), spec §7.2
export const importDmabufIoctl = register<ImportArgs>({
  name: 'AMDKFD_IOC_IMPORT_DMABUF',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_import_dmabuf (kfd_chardev.c), spec §7.2',
  checks: [
    'no pdd for gpu_id (user id) → -EINVAL',
    'kfd_bind_process_to_device: no VM → -ENODEV',
    'dmabuf_fd not open → -EBADF; not a dma-buf → -EINVAL',
    'BO not in VRAM or GTT → -EINVAL',
  ],
  args: { va_addr: u64, handle: u64, gpu_id: u32, dmabuf_fd: u32 },
  out: ['handle'],
  run({ w, task }, a) {
    const pddId = pddByUserGpuId(w, task, a.gpu_id);
    if (!pddId) return -ERRNO.EINVAL;
    bindProcessToDevice(w, task, pdd(w, pddId).gpu_id);
    const file = fileOf(w, task, a.dmabuf_fd);
    if (!file) return -ERRNO.EBADF;
    const boId = importDmabuf(w, task, pdd(w, pddId).gpu_id, file.id, a.va_addr);
    const idr = createObjHandle(w, pddId, boId);
    if (idr === null) {
      // idr failure: the import is undone, -EFAULT (spec §7.2 IMPORT_DMABUF)
      freeMemoryOfGpu(w, boId);
      dropObject(w, boId);
      return -ERRNO.EFAULT;
    }
    a.handle = MAKE_HANDLE(a.gpu_id, idr);
    return 0;
  },
});

interface DmabufInfoArgs {
  size: bigint;
  metadata_ptr: bigint;
  metadata_size: number;
  gpu_id: number;
  flags: number;
  dmabuf_fd: number;
}

// kfd_ioctl_get_dmabuf_info (kfd_chardev.c), spec §7.2
export const getDmabufInfo = register<DmabufInfoArgs>({
  name: 'AMDKFD_IOC_GET_DMABUF_INFO',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_get_dmabuf_info (kfd_chardev.c), spec §7.2',
  checks: [
    'no KFD device at all → -EINVAL',
    'dmabuf_fd not open (dma_buf_get) → -EBADF',
    'dmabuf_fd not an amdgpu dma-buf → -EINVAL',
    'a BO whose preferred domains have neither VRAM nor GTT → -EINVAL',
  ],
  args: {
    size: u64,
    metadata_ptr: u64,
    metadata_size: u32,
    gpu_id: u32,
    flags: flags(F, 'KFD_IOC_ALLOC_MEM_FLAGS_'),
    dmabuf_fd: u32,
  },
  out: ['size', 'metadata_size', 'gpu_id', 'flags'],
  run({ w, task }, a) {
    if (w.topology.gpus.length === 0) return -ERRNO.EINVAL;
    // amdgpu_amdkfd_get_dmabuf_info: dma_buf_get(fd) (-EBADF for no open file), then an
    // amdgpu dma-buf of this driver (-EINVAL otherwise).
    const file = fileOf(w, task, a.dmabuf_fd);
    if (!file) return -ERRNO.EBADF;
    if (file.kind !== 'dmabuf') return -ERRNO.EINVAL;
    const gem = w.gems[file.gem];
    if (!gem) fail(-ERRNO.EINVAL);
    // "Only VRAM and GTT BOs are supported" (a render-node BO created in the CPU domain).
    if (gem.domain !== 'VRAM' && gem.domain !== 'GTT') return -ERRNO.EINVAL;
    a.size = gem.size;
    a.metadata_size = 0;
    a.gpu_id = gem.gpu_id;
    // PUBLIC when the BO needs CPU access (bo->flags), as a KFD PUBLIC VRAM allocation or a
    // render-node GEM_CREATE with CPU_ACCESS_REQUIRED has it; a GTT BO never does.
    const cpuAccess = (gem.flags & AMDGPU_GEM_CREATE.CPU_ACCESS_REQUIRED) !== 0;
    a.flags = (gem.domain === 'VRAM' ? F.VRAM : F.GTT) | (cpuAccess ? F.PUBLIC : 0);
    return 0;
  },
});
