/**
 * criu_checkpoint_bos (kfd_chardev.c), spec §5.2.4: the bucket and the private record of every
 * BO CHECKPOINT saves. It runs last in criu_checkpoint, so that the dma-buf fds it reserves are
 * installed only when everything else has succeeded (commit_files).
 */
import { type BoContext, isMappedIn } from '../../../../machines/kfd/bo.js';
import type { PddContext } from '../../../../machines/kfd/pdd.js';
import type { BoPriv } from '../../../criu/kfd-priv.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F, KFD_INVALID_FD, KFD_MMAP_GPU_ID, KFD_MMAP_TYPE } from '../../../uapi/index.js';
import type { Task, World } from '../../../world/types.js';
import { bo, pdd } from '../../../world/world.js';
import { exportDmabuf } from '../kernel/gpuvm.js';
import type { BoBucket } from './args.js';
import { reserveDmabufFd } from './commit-files.js';
import { forEachCheckpointedBo } from './object-info.js';
import type { PendingFds } from './restore-bos.js';

/** What criu_checkpoint_bos writes: the BO buckets and, in the same order, their bo_priv records. */
export interface CheckpointedBos {
  buckets: BoBucket[];
  privs: BoPriv[];
}

// criu_checkpoint_bos (kfd_chardev.c), spec §5.2.4
export function criuCheckpointBos(w: World, task: Task, caller: Task, pending: PendingFds): CheckpointedBos {
  const buckets: BoBucket[] = [];
  const privs: BoPriv[] = [];
  const peers = task.pdds.map((id) => pdd(w, id));
  forEachCheckpointedBo(w, task, (pddId, idr, boId) => {
    const b = bo(w, boId);
    const p = pdd(w, pddId);
    // criu_get_prime_handle: VRAM and GTT BOs are exported, the fd reserved until commit_files
    const dmabuf_fd =
      b.alloc_flags & (F.VRAM | F.GTT) ? reserveDmabufFd(caller, pending, exportDmabuf(w, boId)) : KFD_INVALID_FD;
    buckets.push({
      addr: b.va,
      size: b.size,
      offset: checkpointedOffset(w, b, p.gpu_id),
      restored_offset: 0n,
      gpu_id: p.user_gpu_id,
      alloc_flags: b.alloc_flags,
      dmabuf_fd,
      pad: 0,
    });
    privs.push({ user_addr: b.user_addr, idr_handle: idr, mapped_gpuids: mappedGpuids(b, peers) });
  });
  return { buckets, privs };
}

/** bo_bucket.offset: the doorbell or MMIO mmap offset of the device, else the BO's own. */
function checkpointedOffset(w: World, b: BoContext, gpuId: number): bigint {
  if (b.alloc_flags & F.DOORBELL) return KFD_MMAP_TYPE.DOORBELL | KFD_MMAP_GPU_ID(gpuId);
  if (b.alloc_flags & F.MMIO_REMAP) return KFD_MMAP_TYPE.MMIO | KFD_MMAP_GPU_ID(gpuId);
  return w.gems[b.gem]!.mmap_offset;
}

/** bo_priv.mapped_gpuids: the user gpu_id of every pdd the BO is mapped to (amdgpu_amdkfd_bo_mapped_to_dev). */
function mappedGpuids(b: BoContext, peers: readonly PddContext[]): number[] {
  const out: number[] = [];
  for (const peer of peers) if (isMappedIn(b, peer.gpu_id)) out.push(peer.user_gpu_id);
  return out;
}
