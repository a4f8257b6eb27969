/**
 * amdgpu GEM_LIST_HANDLES (amdgpu_gem.c, 6.18: amdgpu_gem_list_handles_ioctl; spec §8.2,
 * §9.8): every handle of a render-node file with what the CRIU plugin needs to recreate its
 * object (src/criu/amdgpu-upstream.ts).
 */
import { registerDrm } from '../drm/dispatch.js';
import { arrayOf, flags, nullable, struct, u32, u64 } from '../schema.js';
import { gemBo, gemOf } from './kernel/gem.js';
import { AMDGPU_GEM_CREATE_SETTABLE_MASK, AMDGPU_GEM_LIST_HANDLES_FLAG } from './uapi.js';

/** One drm_amdgpu_gem_list_handles_entry: what GEM_LIST_HANDLES reports of a handle. */
export interface GemListHandlesEntry {
  gem_handle: number;
  flags: number;
  size: bigint;
  preferred_domains: bigint;
  alloc_flags: bigint;
  alignment: bigint;
}

interface ListArgs {
  num_entries: number;
  padding: number;
  entries: GemListHandlesEntry[] | null;
}

// amdgpu_gem_list_handles_ioctl (amdgpu_gem.c, 6.18), spec §8.2, §9.8
export const gemListHandles = registerDrm<ListArgs>({
  name: 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES',
  models: 'amdgpu_gem_list_handles_ioctl (amdgpu_gem.c, 6.18), spec §8.2',
  checks: [
    'not on kernel 6.17 or the proposal’s kernel (no such ioctl) → -EINVAL',
    'num_entries < the number of handles → 0 with num_entries = that number, nothing copied (retry with a bigger array)',
    'no handles → 0 with num_entries = 0',
    'entries, in handle order: gem_handle, flags (IS_IMPORT if the object imports a dma-buf), size, preferred_domains, alloc_flags = bo->flags & AMDGPU_GEM_CREATE_SETTABLE_MASK, alignment (pages); num_entries = the count',
  ],
  args: {
    num_entries: u32,
    padding: u32,
    entries: nullable(
      arrayOf(
        struct({
          gem_handle: u32,
          flags: flags(AMDGPU_GEM_LIST_HANDLES_FLAG, 'AMDGPU_GEM_LIST_HANDLES_FLAG_'),
          size: u64,
          preferred_domains: u64,
          alloc_flags: u64,
          alignment: u64,
        }),
      ),
    ),
  },
  out: ['num_entries', 'entries'],
  run({ w, file }, a) {
    a.entries = null;
    const idr = w.drm?.[file.id]?.object_idr ?? {};
    const handles = Object.keys(idr)
      .map(Number)
      .sort((x, y) => x - y);
    if (a.num_entries < handles.length) {
      a.num_entries = handles.length;
      return 0;
    }
    a.num_entries = handles.length;
    if (handles.length === 0) return 0;
    a.entries = handles.map((h) => {
      const g = gemOf(w, idr[h]!);
      return {
        gem_handle: h,
        flags: gemBo(w, g.id).import_attach !== null ? AMDGPU_GEM_LIST_HANDLES_FLAG.IS_IMPORT : 0,
        size: g.size,
        preferred_domains: BigInt(g.preferred_domains),
        alloc_flags: BigInt(g.flags & AMDGPU_GEM_CREATE_SETTABLE_MASK),
        alignment: BigInt(g.page_alignment),
      };
    });
    return 0;
  },
});
