/**
 * The CRIU RESTORE of the KFD coverage suite (src/explore/coverage-suite-kfd.ts) and the
 * MBT adapters' KfdWorld (test/mbt/adapters/world.ts): AMDKFD_IOC_CRIU_OP RESTORE arguments
 * built from sample buckets and private data rather than from a checkpoint (spec §5.4).
 */
import { type BoPriv, encodePrivData, type ObjectPriv } from '../criu/kfd-priv.js';

/** What a sample RESTORE restores. */
export interface SampleRestore {
  /** The devices in bucket order: identity gpu ids, each with the render-node fd of the restoring process. */
  devices: { gpu: number; drm_fd: number }[];
  /** The BOs: bucket as a log writes it, and private data. */
  bos: { bucket: Record<string, unknown>; priv: BoPriv }[];
  objects: ObjectPriv[];
  /** The private data's process version (1, the one KFD accepts, when absent). */
  version?: number;
}

/**
 * AMDKFD_IOC_CRIU_OP RESTORE's arguments as a log writes them: one device bucket per
 * device (actual gpu id = user gpu id), the BO buckets, and the priv_data blob (process
 * with xnack off, a device entry per device, the BO and object private data).
 */
export function sampleRestoreArgs(r: SampleRestore): Record<string, unknown> {
  const blob = encodePrivData({
    process: { version: r.version ?? 1, xnack_mode: 0 },
    devices: r.devices.map(() => ({ reserved: 0n })),
    bos: r.bos.map((b) => b.priv),
    objects: r.objects,
  });
  return {
    op: 'RESTORE',
    devices: r.devices.map((d) => ({ user_gpu_id: d.gpu, actual_gpu_id: d.gpu, drm_fd: d.drm_fd, pad: 0 })),
    bos: r.bos.map((b) => b.bucket),
    priv_data: Buffer.from(blob).toString('hex'),
    num_objects: r.objects.length,
  };
}
