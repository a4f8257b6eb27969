/**
 * A directory of amdgpu plugin images (spec §9.1): write all of them, or read and check all of
 * them together (each message image, its pages images, and what restore needs across files).
 *
 * Files other than `amdgpu-*` are ignored (a CRIU image directory holds CRIU's own images too);
 * an `amdgpu-*` file that no image accounts for is an error.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KFD_IOC_ALLOC_MEM_FLAGS } from '../../uapi/index.js';
import {
  decodeDmabufImage,
  decodeKfdImage,
  decodeRenderDImage,
  encodeDmabufImage,
  encodeKfdImage,
  encodeRenderDImage,
  type KfdImageOptions,
} from './messages.js';
import { checkPageSize, type PagesSegment, planPagesFile, readPagesFile, writePagesFile } from './pages.js';
import {
  type CriuDmabufNode,
  type CriuKfd,
  type CriuRenderNode,
  DEFAULT_PAGE_SIZE,
  dmabufImageName,
  drmPagesImageName,
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
function kfdPagesPlan(id: number, kfd: CriuKfd): { name: string; gpu: number; bos: number[] }[] {
  return kfd.device_entries
    .filter((d) => d.gpu_id !== 0)
    .map((d) => ({
      name: kfdPagesImageName(id, d.gpu_id),
      gpu: d.gpu_id,
      bos: kfd.bo_entries.flatMap((b, i) => (b.gpu_id === d.gpu_id && kfdBoHasPages(b.alloc_flags) ? [i] : [])),
    }));
}

function checkId(id: unknown, where: string): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fff_ffff) {
    throw new ImageError(where, 'id', 'a CRIU file id (an integer 0 … 2^31−1)', id);
  }
  return id;
}

/** Cross-file checks of restore (spec §9.5, §9.8): ids, and that imported handles are published. */
function checkAcross(dir: ImageDir): void {
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
  // Handles whose dmabuf fd restore publishes (store_dmabuf_fd): KFD BOs with a handle and
  // render-node BOs that are not imports.
  const published = new Set<number>();
  for (const s of dir.kfd) for (const b of s.kfd.bo_entries) if (b.handle !== NO_GEM_HANDLE) published.add(b.handle);
  for (const s of dir.renderD) for (const b of s.renderD.bo_entries) if (b.is_import === 0) published.add(b.handle);
  const expected =
    'the GEM handle of a BO whose dmabuf restore publishes (a kfd_bo_entry handle or a non-imported ' +
    'drm_bo_entry of this directory, spec §9.8)';
  for (const s of dir.renderD) {
    s.renderD.bo_entries.forEach((b, i) => {
      if (b.is_import === 1 && !published.has(b.handle)) {
        throw new ImageError(renderDImageName(s.id), `bo_entries[${i}].handle`, expected, b.handle);
      }
    });
  }
  for (const s of dir.dmabuf) {
    if (!published.has(s.dmabuf.gem_handle)) {
      throw new ImageError(dmabufImageName(s.id), 'gem_handle', expected, s.dmabuf.gem_handle);
    }
  }
}

interface PendingFile {
  name: string;
  write(path: string): void;
}

function contentOf(
  contents: (PageContent | undefined)[] | undefined,
  i: number,
  name: string,
): PageContent | undefined {
  if (contents === undefined) return undefined;
  if (!Array.isArray(contents)) throw new ImageError(name, 'contents', 'an array (one entry per bo_entries)', contents);
  return contents[i];
}

/**
 * Writes every image of `images` into `dir` (created if missing). Everything is encoded and
 * checked first, so a rejected input writes nothing; each file is written under a temporary
 * name and renamed into place, so no reader ever sees a partial image. Pages images are sparse.
 * Returns the names written.
 */
export function writeImageDir(dir: string, images: ImageDir, opts: ImageDirOptions = {}): string[] {
  const pageSize = checkPageSize(opts.pageSize ?? DEFAULT_PAGE_SIZE);
  const files: PendingFile[] = [];
  for (const s of images.kfd) {
    const name = kfdImageName(checkId(s.id, 'kfd image'));
    const bytes = encodeKfdImage(s.kfd, name, opts);
    files.push({ name, write: (p) => writeFileSync(p, bytes, { flag: 'wx', mode: 0o600 }) });
    if (s.contents !== undefined && s.contents.length > s.kfd.bo_entries.length) {
      throw new ImageError(name, 'contents', `at most ${s.kfd.bo_entries.length} entries (bo_entries)`, s.contents);
    }
    s.kfd.bo_entries.forEach((b, i) => {
      const c = contentOf(s.contents, i, name);
      if (!kfdBoHasPages(b.alloc_flags) && c !== undefined && Object.keys(c).length > 0) {
        throw new ImageError(
          name,
          `contents[${i}]`,
          'no content: only VRAM/GTT BOs have their contents in pages images (spec §9.4 h)',
          c,
        );
      }
    });
    for (const plan of kfdPagesPlan(s.id, s.kfd)) {
      const segments: PagesSegment[] = plan.bos.map((i) => ({
        size: s.kfd.bo_entries[i]!.size,
        content: contentOf(s.contents, i, name),
        field: `contents[${i}]`,
      }));
      const pages = planPagesFile(plan.name, segments, pageSize);
      files.push({ name: plan.name, write: (p) => writePagesFile(p, plan.name, pages) });
    }
  }
  for (const s of images.renderD) {
    const name = renderDImageName(checkId(s.id, 'renderD image'));
    const bytes = encodeRenderDImage(s.renderD, name);
    files.push({ name, write: (p) => writeFileSync(p, bytes, { flag: 'wx', mode: 0o600 }) });
    if (s.contents !== undefined && s.contents.length > s.renderD.bo_entries.length) {
      throw new ImageError(name, 'contents', `at most ${s.renderD.bo_entries.length} entries (bo_entries)`, s.contents);
    }
    s.renderD.bo_entries.forEach((b, i) => {
      const pname = drmPagesImageName(s.id, s.renderD.drm_render_minor, i);
      const segments: PagesSegment[] = [
        { size: b.size, content: contentOf(s.contents, i, name), field: `contents[${i}]` },
      ];
      const pages = planPagesFile(pname, segments, pageSize);
      files.push({ name: pname, write: (p) => writePagesFile(p, pname, pages) });
    });
  }
  for (const s of images.dmabuf) {
    const name = dmabufImageName(checkId(s.id, 'dmabuf image'));
    const bytes = encodeDmabufImage(s.dmabuf, name);
    files.push({ name, write: (p) => writeFileSync(p, bytes, { flag: 'wx', mode: 0o600 }) });
  }
  checkAcross(images);
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.name)) throw new ImageError(f.name, 'file name', 'a name written once', f.name);
    seen.add(f.name);
  }

  mkdirSync(dir, { recursive: true });
  const tmp = (name: string) => join(dir, `.${name}.tmp-${process.pid}`);
  const written: string[] = [];
  try {
    for (const f of files) {
      rmSync(tmp(f.name), { force: true });
      f.write(tmp(f.name));
      written.push(f.name);
    }
    for (const name of written) renameSync(tmp(name), join(dir, name));
  } catch (e) {
    for (const name of written) rmSync(tmp(name), { force: true });
    throw e;
  }
  return files.map((f) => f.name);
}

/** Runs a file read; an I/O error (a directory, no permission, …) becomes an ImageError. */
function readable<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof ImageError || typeof code !== 'string') throw e;
    throw new ImageError(name, 'file', 'a readable regular file', code, `${code} (${(e as Error).message})`);
  }
}

const NAME_PATTERNS: [RegExp, 'kfd' | 'renderD' | 'dmabuf'][] = [
  [/^amdgpu-kfd-(\d+)\.img$/, 'kfd'],
  [/^amdgpu-renderD-(\d+)\.img$/, 'renderD'],
  [/^amdgpu-dmabuf_(\d+)\.img$/, 'dmabuf'],
];

/**
 * Reads and checks every amdgpu image in `dir`: each message image (messages.ts), the pages
 * images of each (present, size prefix = the sum of its BOs' sizes, contents decodable), that
 * no other `amdgpu-*` file is present, and the cross-file rules of restore. Sorted by file id.
 */
export function readImageDir(dir: string, opts: ImageDirOptions = {}): ImageDir {
  const pageSize = checkPageSize(opts.pageSize ?? DEFAULT_PAGE_SIZE);
  const withContent = opts.contents ?? true;
  const names = readdirSync(dir)
    .filter((n) => n.startsWith('amdgpu-'))
    .sort();
  const present = new Set(names);
  const used = new Set<string>();
  const out: ImageDir = { kfd: [], renderD: [], dmabuf: [] };
  for (const name of names) {
    for (const [re, kind] of NAME_PATTERNS) {
      const m = re.exec(name);
      if (!m) continue;
      const id = Number(m[1]);
      if (String(id) !== m[1] || id > 0x7fff_ffff) continue; // not a name the plugin prints (%d)
      used.add(name);
      const bytes = readable(name, () => readFileSync(join(dir, name)));
      if (kind === 'kfd') out.kfd.push({ id, kfd: decodeKfdImage(bytes, name, opts) });
      else if (kind === 'renderD') out.renderD.push({ id, renderD: decodeRenderDImage(bytes, name) });
      else out.dmabuf.push({ id, dmabuf: decodeDmabufImage(bytes, name) });
    }
  }
  const need = (name: string, owner: string, what: string) => {
    if (!present.has(name))
      throw new ImageError(name, 'file', `present (${what} of ${owner})`, undefined, 'no such file');
    used.add(name);
    return join(dir, name);
  };
  for (const s of out.kfd) {
    const owner = kfdImageName(s.id);
    const contents: (PageContent | undefined)[] = s.kfd.bo_entries.map(() => undefined);
    for (const plan of kfdPagesPlan(s.id, s.kfd)) {
      const path = need(plan.name, owner, `the pages image of GPU 0x${plan.gpu.toString(16)}`);
      const segs = plan.bos.map((i) => ({ size: s.kfd.bo_entries[i]!.size, field: `bo_entries[${i}]` }));
      const what = `the sizes of the VRAM/GTT bo_entries of gpu_id 0x${plan.gpu.toString(16)} in ${owner}`;
      const got = readable(plan.name, () => readPagesFile(path, plan.name, segs, pageSize, withContent, what));
      plan.bos.forEach((i, k) => {
        contents[i] = got[k];
      });
    }
    s.contents = contents;
  }
  for (const s of out.renderD) {
    const owner = renderDImageName(s.id);
    s.contents = s.renderD.bo_entries.map((b, i) => {
      const name = drmPagesImageName(s.id, s.renderD.drm_render_minor, i);
      const path = need(name, owner, `the pages image of bo_entries[${i}]`);
      const what = `the size of bo_entries[${i}] in ${owner}`;
      const segs = [{ size: b.size, field: 'content' }];
      return readable(name, () => readPagesFile(path, name, segs, pageSize, withContent, what))[0];
    });
  }
  for (const name of names) {
    if (!used.has(name)) {
      throw new ImageError(
        name,
        'file name',
        'an amdgpu image that the directory accounts for (spec §9.1 names; pages images need their kfd/renderD image)',
        name,
        'an unexpected file',
      );
    }
  }
  checkAcross(out);
  const byId = <T extends { id: number }>(a: T, b: T) => a.id - b.id;
  out.kfd.sort(byId);
  out.renderD.sort(byId);
  out.dmabuf.sort(byId);
  return out;
}
