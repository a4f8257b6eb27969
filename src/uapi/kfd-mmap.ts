/**
 * Kernel-private encodings that user space nevertheless sees as numbers:
 * /dev/kfd mmap offsets and BO handles (drivers/gpu/drm/amd/amdkfd/kfd_priv.h;
 * spec §1, §2.6). All 64-bit quantities are bigint.
 */

const U64_MAX = (1n << 64n) - 1n;

/** Bit position of the mmap type (`KFD_MMAP_TYPE_SHIFT`, drivers/gpu/drm/amd/amdkfd/kfd_priv.h; spec §2.6). */
export const KFD_MMAP_TYPE_SHIFT = 62n;
/** Mask of the mmap type bits 63:62 (`KFD_MMAP_TYPE_MASK`, kfd_priv.h; spec §2.6). */
export const KFD_MMAP_TYPE_MASK = 0x3n << KFD_MMAP_TYPE_SHIFT;

/** mmap types in bits 63:62 (`KFD_MMAP_TYPE_*`, drivers/gpu/drm/amd/amdkfd/kfd_priv.h; spec §2.6). */
export const KFD_MMAP_TYPE = {
  DOORBELL: 0x3n << KFD_MMAP_TYPE_SHIFT,
  EVENTS: 0x2n << KFD_MMAP_TYPE_SHIFT,
  RESERVED_MEM: 0x1n << KFD_MMAP_TYPE_SHIFT,
  MMIO: 0x0n << KFD_MMAP_TYPE_SHIFT,
} as const;

/** Name of an mmap type (keys of KFD_MMAP_TYPE, kfd_priv.h; spec §2.6). */
export type KfdMmapTypeName = keyof typeof KFD_MMAP_TYPE;

/** Bit position of the gpu_id in an mmap offset (`KFD_MMAP_GPU_ID_SHIFT`, kfd_priv.h; spec §2.6). */
export const KFD_MMAP_GPU_ID_SHIFT = 46n;
/** Width of a gpu_id hash (`KFD_GPU_ID_HASH_WIDTH`, drivers/gpu/drm/amd/amdkfd/kfd_priv.h; spec §2.6). */
export const KFD_GPU_ID_HASH_WIDTH = 16;
/** Mask of the gpu_id bits 61:46 (`KFD_MMAP_GPU_ID_MASK`, kfd_priv.h; spec §2.6). */
export const KFD_MMAP_GPU_ID_MASK = ((1n << BigInt(KFD_GPU_ID_HASH_WIDTH)) - 1n) << KFD_MMAP_GPU_ID_SHIFT;
/** Mask of the offset bits 45:0 (`KFD_MMAP_OFFSET_VALUE_MASK`, kfd_priv.h; spec §2.6). */
export const KFD_MMAP_OFFSET_VALUE_MASK = (1n << KFD_MMAP_GPU_ID_SHIFT) - 1n;

function checkU32(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${what} ${n} is not a u32`);
}

/** gpu_id placed in bits 61:46, masked like the C macro (`KFD_MMAP_GPU_ID(gpu_id)`, kfd_priv.h; spec §2.6). */
export function KFD_MMAP_GPU_ID(gpuId: number): bigint {
  checkU32('gpu_id', gpuId);
  return (BigInt(gpuId) << KFD_MMAP_GPU_ID_SHIFT) & KFD_MMAP_GPU_ID_MASK;
}

/** gpu_id of an mmap offset (`KFD_MMAP_GET_GPU_ID(offset)`, kfd_priv.h; spec §2.6). */
export function KFD_MMAP_GET_GPU_ID(offset: bigint): number {
  return Number((offset & KFD_MMAP_GPU_ID_MASK) >> KFD_MMAP_GPU_ID_SHIFT);
}

/**
 * `type | KFD_MMAP_GPU_ID(gpuId) | offset`, as kfd_chardev.c builds doorbell,
 * event and MMIO offsets (spec §2.6, §7.2). Stricter than the C code: a gpu_id
 * wider than KFD_GPU_ID_HASH_WIDTH or an offset beyond bit 45 is a RangeError.
 */
export function kfdMmapOffset(type: bigint, gpuId: number, offset = 0n): bigint {
  if (!Object.values(KFD_MMAP_TYPE).includes(type)) {
    throw new RangeError(`0x${type.toString(16)} is not a KFD_MMAP_TYPE`);
  }
  checkU32('gpu_id', gpuId);
  if (gpuId >= 2 ** KFD_GPU_ID_HASH_WIDTH) {
    throw new RangeError(`gpu_id ${gpuId} wider than KFD_GPU_ID_HASH_WIDTH (${KFD_GPU_ID_HASH_WIDTH})`);
  }
  if (offset < 0n || offset > KFD_MMAP_OFFSET_VALUE_MASK) {
    throw new RangeError(`mmap offset 0x${offset.toString(16)} does not fit in bits 45:0`);
  }
  return type | KFD_MMAP_GPU_ID(gpuId) | offset;
}

/** A decoded /dev/kfd mmap offset (`kfd_mmap()` in drivers/gpu/drm/amd/amdkfd/kfd_chardev.c; spec §2.6). */
export interface KfdMmapOffset {
  type: KfdMmapTypeName;
  gpuId: number;
  offset: bigint;
}

/** Splits a /dev/kfd mmap offset into type, gpu_id and offset (`kfd_mmap()`, kfd_chardev.c; spec §2.6). */
export function decodeKfdMmapOffset(off: bigint): KfdMmapOffset {
  if (off < 0n || off > U64_MAX) throw new RangeError(`mmap offset ${off} is not a u64`);
  const typeBits = off & KFD_MMAP_TYPE_MASK;
  const type = (Object.keys(KFD_MMAP_TYPE) as KfdMmapTypeName[]).find((k) => KFD_MMAP_TYPE[k] === typeBits)!;
  return { type, gpuId: KFD_MMAP_GET_GPU_ID(off), offset: off & KFD_MMAP_OFFSET_VALUE_MASK };
}

/** BO handle `((u64)gpu_id << 32) + idr_handle` (`MAKE_HANDLE`, drivers/gpu/drm/amd/amdkfd/kfd_priv.h; spec §1). */
export function MAKE_HANDLE(gpuId: number, idrHandle: number): bigint {
  checkU32('gpu_id', gpuId);
  checkU32('idr_handle', idrHandle);
  return (BigInt(gpuId) << 32n) + BigInt(idrHandle);
}

/** gpu_id half of a BO handle, `handle >> 32` (`GET_GPU_ID`, kfd_priv.h; spec §1). */
export function GET_GPU_ID(handle: bigint): number {
  return Number((handle >> 32n) & 0xffffffffn);
}

/** idr half of a BO handle, `handle & 0xFFFFFFFF` (`GET_IDR_HANDLE`, kfd_priv.h; spec §1). */
export function GET_IDR_HANDLE(handle: bigint): number {
  return Number(handle & 0xffffffffn);
}
