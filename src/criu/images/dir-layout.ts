/**
 * What a directory of amdgpu plugin images holds (spec §9.1): the image sets (a message image
 * with the contents of its BOs), which pages images each message image has, and the rule across
 * files (one file id per image, spec §9.5, §9.8). Shared by the writer (dir-write.ts) and the
 * reader (dir-read.ts); what a restore of a valid directory will meet is restore-notes.ts's.
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
