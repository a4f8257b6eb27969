/**
 * The device buckets a round trip's restore gave CRIU_OP(RESTORE) (spec §9.5 step 3.4): which
 * local GPU (actual_gpu_id) each checkpointed one (user_gpu_id) was restored onto.
 */
import type { RoundtripResult } from '../../src/criu/roundtrip.js';
import { KFD_CRIU_OP } from '../../src/uapi/index.js';

export type DeviceBucket = { user_gpu_id: number; actual_gpu_id: number };

/** The first CRIU_OP(RESTORE)'s device buckets. */
export function restoredDevices(r: RoundtripResult): DeviceBucket[] {
  const restore = r.restore!.calls.find((c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.args.op === KFD_CRIU_OP.RESTORE)!;
  return restore.args.devices as DeviceBucket[];
}
