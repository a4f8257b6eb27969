/**
 * GEM objects (amdgpu_gem.c, amdgpu_object.c, drm_gem.c): one representation for KFD and
 * render-node code. Each object is a record of the world's `gems` (`gem#<n>`: its data and
 * content) and the `amdgpu.gem_bo` machine object the record names (`object`: its lifecycle).
 */
import { boVaContextSpec, boVaMachine } from '../../../../machines/amdgpu/bo-va.js';
import {
  type GemBoContext,
  gemBoContextSpec,
  type GemBoEvent,
  gemBoMachine,
} from '../../../../machines/amdgpu/gem-bo.js';
import { filePut as putFile } from '../../../world/fds.js';
import { canSend, contextOf, createObject, dropObject, registerMachine, send } from '../../../world/objects.js';
import type { Gem, OpenFile, World } from '../../../world/types.js';
import { AMDGPU_GEM_DOMAIN as D } from '../uapi.js';
import { U64 } from './vm.js';

export const GEM_BO = 'amdgpu.gem_bo';
export const BO_VA = 'amdgpu.bo_va';

registerMachine(GEM_BO, gemBoMachine, gemBoContextSpec);
registerMachine(BO_VA, boVaMachine, boVaContextSpec);

/** DRM_FILE_PAGE_OFFSET_START: render-node mmap offsets start above 4 GiB (drm_gem.c). */
export const DRM_FILE_PAGE_OFFSET_START = 0x100000000n;

/** The KFD-facing name of preferred domains: VRAM if it has VRAM, else GTT, else CPU. */
export function domainName(preferred: number): Gem['domain'] {
  if (preferred & D.VRAM) return 'VRAM';
  if (preferred & D.GTT) return 'GTT';
  return 'CPU';
}

export interface NewGem {
  gpu_id: number;
  /** Already page aligned. */
  size: bigint;
  preferred_domains: number;
  flags: number;
  page_alignment: number;
  /** KFD alloc flags (0 for render-node objects). */
  alloc_flags: number;
  userptr: boolean;
  import_attach: string | null;
  /** Bytes to count in kfd_vram_used (KFD VRAM allocations). */
  kfd_vram: bigint;
}

/**
 * amdgpu_hmm_register → mmu_interval_notifier_insert: a userptr's CPU range [addr, addr + size)
 * passes 2^64 (check_add_overflow of its last byte → -EOVERFLOW). GEM_USERPTR and KFD's USERPTR
 * ALLOC both register their range this way.
 */
export function userptrRangeWraps(addr: bigint, size: bigint): boolean {
  return addr + size > U64;
}

/**
 * amdgpu_gem_object_create → amdgpu_bo_create: a new object with the next mmap offset of
 * its device (drm_vma_offset_add at ttm_bo_init). No reference is taken yet: the caller
 * creates the handle or the kgd_mem that holds it.
 */
export function createGem(w: World, g: NewGem): string {
  const object = createObject(w, GEM_BO, {
    gpu_id: g.gpu_id,
    size: g.size,
    flags: g.flags,
    userptr: g.userptr,
    import_attach: g.import_attach,
  });
  const id = `gem#${w.next.gem}`;
  w.next.gem += 1;
  const used = w.next.mmap[g.gpu_id] ?? 0n;
  w.next.mmap[g.gpu_id] = used + g.size;
  w.gems[id] = {
    id,
    object,
    gpu_id: g.gpu_id,
    size: g.size,
    domain: domainName(g.preferred_domains),
    preferred_domains: g.preferred_domains,
    flags: g.flags,
    page_alignment: g.page_alignment,
    alloc_flags: g.alloc_flags,
    mmap_offset: DRM_FILE_PAGE_OFFSET_START + used,
    content: {},
    kfd_vram: g.kfd_vram,
    kgd_mems: [],
    dmabuf: null,
  };
  if (g.kfd_vram > 0n) {
    const vram = (w.kfd_vram_used ??= {});
    vram[g.gpu_id] = (vram[g.gpu_id] ?? 0n) + g.kfd_vram;
  }
  return id;
}

export function gemOf(w: World, id: string): Gem {
  const g = w.gems[id];
  if (!g) throw new Error(`no GEM object ${id}`);
  return g;
}

/** The machine context of a GEM object (its `amdgpu.gem_bo` object). */
export function gemBo(w: World, id: string): GemBoContext {
  return contextOf<GemBoContext>(w, gemOf(w, id).object);
}

/** Send an event to a GEM object's machine; its record's copies of `kgd_mems` and `dmabuf` follow. */
export function gemSend(w: World, id: string, e: GemBoEvent): void {
  const rec = gemOf(w, id);
  send(w, rec.object, e);
  if (!w.objects[rec.object]) return;
  const c = gemBo(w, id);
  if (rec.dmabuf !== c.dmabuf) rec.dmabuf = c.dmabuf;
  if (rec.kgd_mems.length !== c.kgd_mems.length || rec.kgd_mems.some((m, i) => m !== c.kgd_mems[i]))
    rec.kgd_mems = [...c.kgd_mems];
}

/** The object whose pages an object shows: an import shows its exporter's (dma_buf->priv). */
export function contentGem(w: World, id: string): Gem {
  const g = findContentGem(w, id);
  if (!g) throw new Error(`no GEM object ${id}`);
  return g;
}

/**
 * contentGem, or undefined when there is no GEM object `id`. One lookup per store and step:
 * the round trip's comparison asks it for every BO of both worlds (issue 5).
 */
export function findContentGem(w: World, id: string): Gem | undefined {
  let g: Gem | undefined = w.gems[id];
  if (!g) return undefined;
  for (let i = 0; i < 8; i++) {
    const attach: string | null = contextOf<GemBoContext>(w, g.object).import_attach;
    const f: OpenFile | undefined = attach === null ? undefined : w.files[attach];
    const exporter: Gem | undefined = f?.kind === 'dmabuf' ? w.gems[f.gem] : undefined;
    if (!exporter) return g;
    g = exporter;
  }
  return g;
}

/** VRAM of a device held by KFD allocations (amdgpu_amdkfd_reserve_mem_limit's count). */
export function kfdVramUsed(w: World, gpuId: number): bigint {
  return w.kfd_vram_used?.[gpuId] ?? 0n;
}

/**
 * drm_gem_object_free when nothing refers to the object any more: the machine reaches its
 * final state, the record goes, KFD accounting is released, an import drops its dma-buf
 * (drm_prime_gem_destroy → dma_buf_put).
 */
export function releaseGemIfUnused(w: World, id: string): void {
  const g = w.gems[id];
  if (!g || !w.objects[g.object] || !canSend(w, g.object, { type: 'FREE' })) return;
  const attach = gemBo(w, id).import_attach;
  send(w, g.object, { type: 'FREE' });
  dropObject(w, g.object);
  if (g.kfd_vram > 0n && w.kfd_vram_used) w.kfd_vram_used[g.gpu_id] = kfdVramUsed(w, g.gpu_id) - g.kfd_vram;
  delete w.gems[id];
  if (attach !== null) putFile(w, attach, (f) => releaseDmabufFile(w, f));
}

/**
 * dma_buf_release of an amdgpu dma-buf (drm_gem_dmabuf_release): the dma-buf's reference
 * of its object goes; an orphaned object (no handles left) is freed then.
 */
export function releaseDmabufFile(w: World, f: OpenFile): void {
  const g = f.kind === 'dmabuf' ? w.gems[f.gem] : undefined;
  if (f.kind !== 'dmabuf' || !g) return;
  if (canSend(w, g.object, { type: 'DMABUF_RELEASED', dmabuf: f.id }))
    gemSend(w, f.gem, { type: 'DMABUF_RELEASED', dmabuf: f.id });
  releaseGemIfUnused(w, f.gem);
}

/**
 * export_and_register_object: the object's first dma-buf (obj->dma_buf), which holds a
 * reference of the object. (The kernel's object also holds a reference of the dma-buf while
 * it has handles; gpucr counts only the references of fds, kgd_mems and prime entries, one
 * of which every handle of an exported object comes with, so a dma-buf file's `refs` reach 0
 * exactly when the kernel's would after the object's last handle.)
 */
export function gemExport(w: World, id: string, dmabuf: string): void {
  gemSend(w, id, { type: 'EXPORT', dmabuf });
}

/**
 * drm_gem_prime_fd_to_handle on an object whose dma-buf outlived its handles: `obj->dma_buf
 * = dma_buf` again.
 */
export function gemAttachDmabuf(w: World, id: string, dmabuf: string): void {
  if (canSend(w, gemOf(w, id).object, { type: 'DMABUF_ATTACH', dmabuf }))
    gemSend(w, id, { type: 'DMABUF_ATTACH', dmabuf });
}

/**
 * drm_gem_object_release_handle's object side (the file side is src/ioctls/drm/file.ts):
 * at handle_count 0 an exported object is orphaned (drm_gem_object_exported_dma_buf_free);
 * with nothing left it is freed. The caller drops the handle's prime entry afterwards.
 */
export function gemHandleDeleted(w: World, id: string, file: string, handle: number): void {
  gemSend(w, id, { type: 'HANDLE_DELETE', file, handle });
  releaseGemIfUnused(w, id);
}

/** A kgd_mem stops using the object (amdgpu_amdkfd_gpuvm_free_memory_of_gpu); the caller drops its dma-buf afterwards. */
export function gemKfdUnref(w: World, id: string, mem: string): void {
  gemSend(w, id, { type: 'KFD_UNREF', mem });
  releaseGemIfUnused(w, id);
}
