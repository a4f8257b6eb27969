/**
 * The UAPI of the March 2025 DRM_IOCTL_AMDGPU_CRIU_OP proposal (spec §8.1; criu-v3.ts): the BO
 * bucket, the two private records and their packing in priv_data, and the ioctl's arguments.
 */
import type { Defect } from './oops.js';
import { flags, struct, u32, u64 } from '../schema.js';
import { AMDGPU_CRIU_BO_FLAG as FLAG, AMDGPU_GEM_CREATE as C, AMDGPU_GEM_DOMAIN as D } from './uapi.js';

/** The posted file every line reference of the model points into. */
export const SRC = 'amdgpu_criu.c';

/** struct drm_amdgpu_criu_bo_bucket (amdgpu_drm.h of the proposal). */
export interface CriuV3Bucket {
  addr: bigint;
  size: bigint;
  offset: bigint;
  restored_offset: bigint;
  alloc_flags: number;
  preferred_domains: number;
  dmabuf_fd: number;
  flags: number;
}

/** struct drm_amdgpu_criu_bo_priv_data (4 bytes) and drm_amdgpu_criu_vm_mapping_priv_data (40 bytes, amdgpu_criu.h). */
export interface CriuV3BoPriv {
  idr_handle: number;
}

export interface CriuV3VmPriv {
  start: bigint;
  last: bigint;
  offset: bigint;
  flags: bigint;
  idr_handle: number;
}

export const BO_PRIV_SIZE = 4;
export const VM_PRIV_SIZE = 40;

/** The priv_data blob: bo privs packed, then the vm privs (at 4 × num_bos, unaligned if num_bos is odd). */
export function encodeCriuV3Priv(bos: readonly CriuV3BoPriv[], vms: readonly CriuV3VmPriv[]): Uint8Array {
  const out = new Uint8Array(BO_PRIV_SIZE * bos.length + VM_PRIV_SIZE * vms.length);
  const dv = new DataView(out.buffer);
  bos.forEach((b, i) => dv.setUint32(i * BO_PRIV_SIZE, b.idr_handle, true));
  vms.forEach((m, i) => {
    const o = BO_PRIV_SIZE * bos.length + i * VM_PRIV_SIZE;
    dv.setBigUint64(o, m.start, true);
    dv.setBigUint64(o + 8, m.last, true);
    dv.setBigUint64(o + 16, m.offset, true);
    dv.setBigUint64(o + 24, m.flags, true);
    dv.setUint32(o + 32, m.idr_handle, true);
  });
  return out;
}

/** copy_from_user of num_bos bo privs and num_objs vm privs: null if the blob is shorter. */
export function decodeCriuV3Priv(
  blob: Uint8Array | null,
  numBos: number,
  numObjs: number,
): { bos: CriuV3BoPriv[]; vms: CriuV3VmPriv[] } | null {
  const need = BO_PRIV_SIZE * numBos + VM_PRIV_SIZE * numObjs;
  if (need === 0) return { bos: [], vms: [] };
  if (blob === null || blob.length < need) return null;
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const bos = Array.from({ length: numBos }, (_, i) => ({ idr_handle: dv.getUint32(i * BO_PRIV_SIZE, true) }));
  const vms = Array.from({ length: numObjs }, (_, i) => {
    const o = BO_PRIV_SIZE * numBos + i * VM_PRIV_SIZE;
    return {
      start: dv.getBigUint64(o, true),
      last: dv.getBigUint64(o + 8, true),
      offset: dv.getBigUint64(o + 16, true),
      flags: dv.getBigUint64(o + 24, true),
      idr_handle: dv.getUint32(o + 32, true),
    };
  });
  return { bos, vms };
}

/** struct drm_amdgpu_criu_args, with the model's out-only `oops` and `defects`. */
export interface CriuV3Args {
  bos: CriuV3Bucket[] | null;
  priv_data: Uint8Array | null;
  priv_data_size: bigint | null;
  num_bos: number | null;
  num_objs: number | null;
  pid: number;
  op: number;
  oops: string | null;
  defects: Defect[] | null;
}

export const bucketSchema = struct({
  addr: u64,
  size: u64,
  offset: u64,
  restored_offset: u64,
  alloc_flags: flags(C, 'AMDGPU_GEM_CREATE_'),
  preferred_domains: flags(D, 'AMDGPU_GEM_DOMAIN_'),
  dmabuf_fd: u32,
  flags: flags(FLAG, 'AMDGPU_CRIU_BO_FLAG_'),
});
