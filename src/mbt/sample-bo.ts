/**
 * The sample BO of the KFD coverage suite (src/explore/coverage-suite-kfd.ts) and the
 * kfd_bo MBT adapters (test/mbt/adapters/bo.ts): 1 MiB at a fixed GPU VA, a GTT BO or a
 * userptr BO over fixed user memory, and the userptr one as CRIU RESTORE re-creates it
 * from its bucket and private data (spec §5.4 step 4); and the kfd_bo events that the
 * adapters and the sample table (src/mbt/sample-events.ts) offer its model.
 */
import type { BoEvent } from '../../machines/kfd/bo.js';
import type { BoPriv } from '../criu/kfd-priv.js';
import { KFD_INVALID_FD } from '../uapi/index.js';

/** The BO's GPU virtual address. */
export const SAMPLE_BO_VA = 0x7f0002000000n;
export const SAMPLE_BO_SIZE = 1n << 20n;
/** The user memory behind the userptr BO (ALLOC's mmap_offset, the private data's user_addr). */
export const SAMPLE_USER_ADDR = 0x7ffd00000000n;

/**
 * The userptr BO in a CRIU RESTORE on `gpu_id`: its kfd_criu_bo_bucket as a log writes
 * it and its private data, mapped on the user gpu_ids `mapped`.
 */
export function userptrRestoreBo(gpu_id: number, mapped: number[]): { bucket: Record<string, unknown>; priv: BoPriv } {
  return {
    bucket: {
      addr: SAMPLE_BO_VA,
      size: SAMPLE_BO_SIZE,
      offset: 0n,
      restored_offset: 0n,
      gpu_id,
      alloc_flags: ['USERPTR', 'WRITABLE'],
      dmabuf_fd: KFD_INVALID_FD,
      pad: 0,
    },
    priv: { user_addr: SAMPLE_USER_ADDR, idr_handle: 0, mapped_gpuids: mapped },
  };
}

/**
 * The kfd_bo events offered in every state of the model: ATTACH, MAP and UNMAP on each of
 * two GPUs, the userptr invalidate / validate pair, EXPORT to the dma-buf file `dmabuf` (the
 * guards read only whether there is one; the name shows in the path texts), FREE.
 */
export function sampleBoEvents(gpuA: number, gpuB: number, dmabuf: string): BoEvent[] {
  return [
    { type: 'ATTACH', vm: gpuA },
    { type: 'ATTACH', vm: gpuB },
    { type: 'MAP', vm: gpuA },
    { type: 'MAP', vm: gpuB },
    { type: 'UNMAP', vm: gpuA },
    { type: 'UNMAP', vm: gpuB },
    { type: 'INVALIDATE_USERPTR' },
    { type: 'VALIDATE_USERPTR' },
    { type: 'EXPORT', dmabuf },
    { type: 'FREE' },
  ];
}
