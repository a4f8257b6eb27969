/**
 * The last step of restoring one render-node BO in amdgpu_plugin_drm_restore_file (spec
 * §9.8), once the BO has its saved handle again: GEM_MMAP (the new offset for
 * UPDATE_VMA_MAP), then one GEM_VA MAP per saved mapping. The CRIU orchestration's restore
 * (restore-drm.ts) and the upstream design's call sequence (amdgpu-upstream.ts) both take it;
 * each says in its own words which call failed.
 */
import type { DrmVmEntry } from './images/index.js';

/** Issues one call on the render fd of the restored task (the caller's issuer, stage and fd). */
export type DrmIssue = (call: string, raw: Record<string, unknown>) => { ret: number };

/** The call that failed: GEM_MMAP, or the GEM_VA MAP of one saved mapping. */
export type MapFailure = { call: 'GEM_MMAP'; ret: number } | { call: 'GEM_VA MAP'; ret: number; entry: DrmVmEntry };

/** GEM_MMAP of `handle`, then GEM_VA MAP of each saved mapping; stops at the first failure. */
export function mapSavedBo(issue: DrmIssue, handle: number, vmEntries: readonly DrmVmEntry[]): MapFailure | null {
  const mm = issue('DRM_IOCTL_AMDGPU_GEM_MMAP', { handle });
  if (mm.ret !== 0) return { call: 'GEM_MMAP', ret: mm.ret };
  for (const v of vmEntries) {
    const va = issue('DRM_IOCTL_AMDGPU_GEM_VA', {
      handle,
      operation: 'MAP',
      flags: Number(v.flags),
      va_address: v.addr,
      offset_in_bo: v.offset,
      map_size: v.size,
    });
    if (va.ret !== 0) return { call: 'GEM_VA MAP', ret: va.ret, entry: v };
  }
  return null;
}
