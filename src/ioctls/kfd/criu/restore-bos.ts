import type { BoPriv } from '../../../criu/kfd-priv.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F, KFD_INVALID_FD, KFD_MMAP_GPU_ID, KFD_MMAP_TYPE } from '../../../uapi/index.js';
import { reserveDmabufFd } from './commit-files.js';
import { idrAllocAt } from '../../../world/idr.js';
import { dropObject, send } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { bo, gpuById, pdd, pddByUserGpuId } from '../../../world/world.js';
import { fail } from '../../registry.js';
import { allocMemoryOfGpu, exportDmabuf, freeMemoryOfGpu, mapBoToVm } from '../kernel/gpuvm.js';
import { bindProcessToDevice } from '../kernel/process.js';
import type { BoBucket } from './args.js';

/** dma-buf fds reserved by restore_bos, installed only if every BO succeeded (commit_files). */
export interface PendingFds {
  reserved: Set<number>;
  files: { fd: number; file: string }[];
  /** Where the next lowest-free-fd search starts (below it every fd is open or reserved). */
  next?: number;
}

/** criu_restore_memory_of_gpu + criu_restore_bo (kfd_chardev.c), spec §5.4 step 4, one bucket. */
export function restoreBo(w: World, task: Task, b: BoBucket, priv: BoPriv, caller: Task, pending: PendingFds): void {
  const pddId = pddByUserGpuId(w, task, b.gpu_id);
  if (!pddId) fail(-ERRNO.ENODEV);
  const gpuId = pdd(w, pddId).gpu_id;
  const gpu = gpuById(w, gpuId)!;
  let userAddr = 0n;
  if (b.alloc_flags & F.DOORBELL) {
    if (b.size !== BigInt(gpu.doorbell_slice_size)) fail(-ERRNO.EINVAL);
    send(w, pddId, { type: 'ALLOC_DOORBELLS' });
  } else if (b.alloc_flags & F.MMIO_REMAP) {
    if (b.size !== BigInt(w.topology.page_size)) fail(-ERRNO.EINVAL);
    if (gpu.mmio_remap_bus_addr === 0n || w.topology.page_size > 4096) fail(-ERRNO.ENOMEM);
  } else if (b.alloc_flags & F.USERPTR) userAddr = priv.user_addr;
  // "Could not create the BO": the same allocator as the ioctl (AQL sizes are halved again,
  // spec §7.3; the checkpointed-size variant asks for twice the bucket's size instead).
  const aqlFix = (b.alloc_flags & F.AQL_QUEUE_MEM) !== 0 && w.variants['kfd-restore-aql'] === 'checkpointed-size';
  const boId = allocMemoryOfGpu(w, task, gpuId, {
    va: b.addr,
    size: aqlFix ? b.size * 2n : b.size,
    flags: b.alloc_flags,
    user_addr: userAddr,
    criu_resume: true,
  });
  // idr_alloc(&pdd->alloc_idr, mem, idr_handle, idr_handle + 1)
  if (!idrAllocAt(w, pddId, priv.idr_handle, boId)) {
    freeMemoryOfGpu(w, boId);
    dropObject(w, boId);
    fail(-ERRNO.ENOMEM);
  }
  if (b.alloc_flags & F.DOORBELL) b.restored_offset = KFD_MMAP_TYPE.DOORBELL | KFD_MMAP_GPU_ID(gpuId);
  else if (b.alloc_flags & F.MMIO_REMAP) b.restored_offset = KFD_MMAP_TYPE.MMIO | KFD_MMAP_GPU_ID(gpuId);
  else if (b.alloc_flags & (F.GTT | F.VRAM)) b.restored_offset = w.gems[bo(w, boId).gem]!.mmap_offset;
  // Not halved for AQL, not page aligned (spec §7.3).
  if (b.alloc_flags & F.VRAM) send(w, pddId, { type: 'VRAM_USAGE_ADD', delta: b.size });
  const maps = Math.min(priv.mapped_gpuids.length, task.pdds.length);
  for (let m = 0; m < maps; m++) {
    const peer = pddByUserGpuId(w, task, priv.mapped_gpuids[m]!);
    if (!peer) fail(-ERRNO.EINVAL);
    bindProcessToDevice(w, task, pdd(w, peer).gpu_id);
    mapBoToVm(w, boId, pdd(w, peer).gpu_id);
  }
  if (b.alloc_flags & (F.VRAM | F.GTT)) {
    b.dmabuf_fd = reserveDmabufFd(caller, pending, exportDmabuf(w, boId));
  } else b.dmabuf_fd = KFD_INVALID_FD;
}
