/**
 * What a directory of amdgpu plugin images holds (spec §9.1): the image sets (a message image
 * with the contents of its BOs), which pages images each message image has, the rule across
 * files (one file id per image) and what a restore cannot find across them (spec §9.5, §9.8).
 * Shared by the writer (dir-write.ts) and the reader (dir-read.ts).
 */
import { KFD_IOC_ALLOC_MEM_FLAGS } from '../../uapi/index.js';
import type { KfdImageOptions } from './messages.js';
import {
  type CriuDmabufNode,
  type CriuKfd,
  type CriuRenderNode,
  dmabufImageName,
  ImageError,
  kfdImageName,
  kfdPagesImageName,
  NO_GEM_HANDLE,
  type PageContent,
  renderDImageName,
} from './types.js';

/** A KFD image and the contents of its BOs (index = bo_entries index). */
export interface KfdImageSet {
  /** CRIU file id (`amdgpu-kfd-<id>.img`). */
  id: number;
  kfd: CriuKfd;
  /**
   * Content of each BO. Only VRAM/GTT BOs have their contents in the pages images (spec §9.4 h);
   * on read the others are `undefined`, on write they must be `undefined` or empty.
   * Missing entries are empty (all-zero) BOs.
   */
  contents?: (PageContent | undefined)[];
}

/** A render-node image and the contents of its BOs (one `amdgpu-drm-pages-…` file per BO). */
export interface RenderDImageSet {
  id: number;
  renderD: CriuRenderNode;
  contents?: (PageContent | undefined)[];
}

export interface DmabufImageSet {
  id: number;
  dmabuf: CriuDmabufNode;
}

/** Every amdgpu image of one CRIU image directory. */
export interface ImageDir {
  kfd: KfdImageSet[];
  renderD: RenderDImageSet[];
  dmabuf: DmabufImageSet[];
}

export interface ImageDirOptions extends KfdImageOptions {
  /** Page size the contents are cut into (default 4096). */
  pageSize?: number;
  /** readImageDir: decode BO contents (default true); false only checks the pages images' sizes. */
  contents?: boolean;
}

/** KFD BOs whose contents the plugin saves (spec §9.4 h, §9.7). */
export function kfdBoHasPages(alloc_flags: number): boolean {
  return (alloc_flags & (KFD_IOC_ALLOC_MEM_FLAGS.VRAM | KFD_IOC_ALLOC_MEM_FLAGS.GTT)) !== 0;
}

/** The pages images of a KFD image: one per GPU device entry, its VRAM/GTT BOs in bucket order. */
export function kfdPagesPlan(id: number, kfd: CriuKfd): { name: string; gpu: number; bos: number[] }[] {
  return kfd.device_entries
    .filter((d) => d.gpu_id !== 0)
    .map((d) => ({
      name: kfdPagesImageName(id, d.gpu_id),
      gpu: d.gpu_id,
      bos: kfd.bo_entries.flatMap((b, i) => (b.gpu_id === d.gpu_id && kfdBoHasPages(b.alloc_flags) ? [i] : [])),
    }));
}

/** A CRIU file id as an image name holds it (`%d`, non-negative). */
export function checkId(id: unknown, where: string): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fff_ffff) {
    throw new ImageError(where, 'id', 'a CRIU file id (an integer 0 … 2^31−1)', id);
  }
  return id;
}

/** The cross-file rule of a directory: no two amdgpu images share a CRIU file id. */
export function checkAcross(dir: ImageDir): void {
  const byId = new Map<number, string>();
  const claim = (id: number, name: string) => {
    const other = byId.get(id);
    if (other !== undefined) {
      throw new ImageError(name, 'file id', `an id no other amdgpu image uses (${other} has it)`, id);
    }
    byId.set(id, name);
  };
  for (const s of dir.kfd) claim(s.id, kfdImageName(s.id));
  for (const s of dir.renderD) claim(s.id, renderDImageName(s.id));
  for (const s of dir.dmabuf) claim(s.id, dmabufImageName(s.id));
}

/** An imported render-node BO or a dma-buf image: what a restore looks up by GEM handle number. */
export interface HandleLookup {
  file: string;
  field: string;
  handle: number;
}

/** A lookup whose handle number several images publish, and those images. */
export interface AmbiguousHandle extends HandleLookup {
  publishers: string[];
}

/**
 * The restore's table of published dma-bufs (spec §9.8, store_dmabuf_fd): GEM handle number →
 * the images that publish under it, a KFD image for each of its BOs with a handle and a
 * render-node image for each of its BOs that is not an import, each image once per number.
 */
function publishers(dir: ImageDir): Map<number, string[]> {
  const table = new Map<number, string[]>();
  const publish = (h: number, file: string) => {
    const list = table.get(h) ?? [];
    if (!list.includes(file)) list.push(file);
    table.set(h, list);
  };
  for (const s of dir.kfd)
    for (const b of s.kfd.bo_entries) if (b.handle !== NO_GEM_HANDLE) publish(b.handle, kfdImageName(s.id));
  for (const s of dir.renderD)
    for (const b of s.renderD.bo_entries) if (b.is_import === 0) publish(b.handle, renderDImageName(s.id));
  return table;
}

/** What a restore fetches from that table: imported render-node BOs and dma-buf images. */
function lookups(dir: ImageDir): HandleLookup[] {
  const out: HandleLookup[] = [];
  for (const s of dir.renderD)
    s.renderD.bo_entries.forEach((b, i) => {
      if (b.is_import === 1)
        out.push({ file: renderDImageName(s.id), field: `bo_entries[${i}].handle`, handle: b.handle });
    });
  for (const s of dir.dmabuf)
    out.push({ file: dmabufImageName(s.id), field: 'gem_handle', handle: s.dmabuf.gem_handle });
  return out;
}

/**
 * Imports and dma-bufs that a restore of the directory waits for in vain (spec §9.8): the table
 * of published dma-bufs is keyed by GEM handle number alone, and one whose number nothing
 * publishes is retried until CRIU gives up (no progress). The plugin's dump writes such a
 * directory, for instance for a BO imported on a second GPU under another handle number than its
 * exporter's (test/criu/unpublished-import.test.ts), so it is a valid directory that cannot be
 * restored, not a bad one: `gpucr images` reports it.
 */
export function unpublishedHandles(dir: ImageDir): HandleLookup[] {
  const table = publishers(dir);
  return lookups(dir).filter((l) => !table.has(l.handle));
}

/**
 * Imports and dma-bufs whose handle number several images publish (spec §9.8 observations: two
 * render-node files with equal handle numbers collide, and store_dmabuf_fd keeps the first): the
 * BO a restore gives them depends on which image is restored first, so it may be another BO than
 * the one dumped (test/criu/roundtrip-tree-fc.test.ts leaves such histories out of its
 * both-orders property). `gpucr images` reports them.
 */
export function ambiguousHandles(dir: ImageDir): AmbiguousHandle[] {
  const table = publishers(dir);
  return lookups(dir).flatMap((l) => {
    const by = table.get(l.handle) ?? [];
    return by.length > 1 ? [{ ...l, publishers: by }] : [];
  });
}
