/** struct kfd_ioctl_criu_args and its buckets (spec §2.5), as the log carries them. */
import { KFD_CRIU_OP, KFD_IOC_ALLOC_MEM_FLAGS } from '../../../uapi/index.js';
import { arrayOf, bytes, enumOf, flags, nullable, struct, u32, u64 } from '../../schema.js';

export interface DeviceBucket {
  user_gpu_id: number;
  actual_gpu_id: number;
  drm_fd: number;
  pad: number;
}

export interface BoBucket {
  addr: bigint;
  size: bigint;
  offset: bigint;
  restored_offset: bigint;
  gpu_id: number;
  alloc_flags: number;
  dmabuf_fd: number;
  pad: number;
}

/** A NULL user pointer is `null` (or an absent key); counts left out default to the array lengths. */
export interface CriuArgs {
  devices: DeviceBucket[] | null;
  bos: BoBucket[] | null;
  priv_data: Uint8Array | null;
  priv_data_size: bigint | null;
  num_devices: number | null;
  num_bos: number | null;
  num_objects: number;
  pid: number;
  op: number;
}

export const criuArgsSchema = {
  devices: nullable(arrayOf(struct({ user_gpu_id: u32, actual_gpu_id: u32, drm_fd: u32, pad: u32 }))),
  bos: nullable(
    arrayOf(
      struct({
        addr: u64,
        size: u64,
        offset: u64,
        restored_offset: u64,
        gpu_id: u32,
        alloc_flags: flags(KFD_IOC_ALLOC_MEM_FLAGS, 'KFD_IOC_ALLOC_MEM_FLAGS_'),
        dmabuf_fd: u32,
        pad: u32,
      }),
    ),
  ),
  priv_data: nullable(bytes),
  priv_data_size: nullable(u64),
  num_devices: nullable(u32),
  num_bos: nullable(u32),
  num_objects: u32,
  pid: u32,
  op: enumOf(KFD_CRIU_OP, 'KFD_CRIU_OP_'),
};

/** Fill in counts the log left out (num_* from the arrays, priv_data_size from the blob). */
export function defaultCounts(a: CriuArgs): void {
  a.num_devices ??= a.devices?.length ?? 0;
  a.num_bos ??= a.bos?.length ?? 0;
  a.priv_data_size ??= BigInt(a.priv_data?.length ?? 0);
}
