/**
 * Writing a directory of amdgpu plugin images (spec §9.1): every file of every image set is
 * encoded and checked first (one pending file per message image and per pages image), then
 * all are written under temporary names and renamed into place.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkAcross,
  checkId,
  type DmabufImageSet,
  type ImageDir,
  type ImageDirOptions,
  type KfdImageSet,
  kfdBoHasPages,
  kfdPagesPlan,
  type RenderDImageSet,
} from './dir-layout.js';
import { encodeDmabufImage, encodeKfdImage, encodeRenderDImage } from './messages.js';
import { checkPageSize, type PagesSegment, planPagesFile, writePagesFile } from './pages.js';
import {
  DEFAULT_PAGE_SIZE,
  dmabufImageName,
  drmPagesImageName,
  ImageError,
  kfdImageName,
  type PageContent,
  renderDImageName,
} from './types.js';

/** A file encoded and checked, not yet written. */
interface PendingFile {
  name: string;
  write(path: string): void;
}

/**
 * Writes every image of `images` into `dir` (created if missing). Everything is encoded and
 * checked first, so a rejected input writes nothing; each file is written under a temporary
 * name and renamed into place, so no reader ever sees a partial image. Pages images are sparse.
 * Returns the names written.
 */
export function writeImageDir(dir: string, images: ImageDir, opts: ImageDirOptions = {}): string[] {
  const files = planImageDir(images, opts);
  commitFiles(dir, files);
  return files.map((f) => f.name);
}

/**
 * Every check writeImageDir makes of `images`, writing nothing: an ImageError names the file and
 * the field that a write would refuse. What a world keeps of a dump without a directory (its
 * `saved` images) is checked with it when a snapshot loads (src/log/snapshot-saved.ts).
 */
export function checkImageDir(images: ImageDir, opts: ImageDirOptions = {}): void {
  planImageDir(images, opts);
}

/** Every file of `images`, encoded and checked, and the checks across files. */
function planImageDir(images: ImageDir, opts: ImageDirOptions): PendingFile[] {
  const pageSize = checkPageSize(opts.pageSize ?? DEFAULT_PAGE_SIZE);
  const files: PendingFile[] = [];
  for (const s of images.kfd) planKfdFiles(files, s, opts, pageSize);
  for (const s of images.renderD) planRenderDFiles(files, s, pageSize);
  for (const s of images.dmabuf) planDmabufFile(files, s);
  checkAcross(images);
  checkNamesOnce(files);
  return files;
}

/** A message image: its encoded bytes, created new (`wx`) and private to the user (0600). */
function messageFile(name: string, bytes: Uint8Array): PendingFile {
  return { name, write: (p) => writeFileSync(p, bytes, { flag: 'wx', mode: 0o600 }) };
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

/** `amdgpu-kfd-<id>.img` and one pages image per GPU with its VRAM/GTT BOs (spec §9.4 h). */
function planKfdFiles(files: PendingFile[], s: KfdImageSet, opts: ImageDirOptions, pageSize: number): void {
  const name = kfdImageName(checkId(s.id, 'kfd image'));
  files.push(messageFile(name, encodeKfdImage(s.kfd, name, opts)));
  checkKfdContents(s, name);
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

/** A KFD image set's contents: at most one per BO, and none for a BO without pages. */
function checkKfdContents(s: KfdImageSet, name: string): void {
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
}

/** `amdgpu-renderD-<id>.img` and one `amdgpu-drm-pages-…` image per BO. */
function planRenderDFiles(files: PendingFile[], s: RenderDImageSet, pageSize: number): void {
  const name = renderDImageName(checkId(s.id, 'renderD image'));
  files.push(messageFile(name, encodeRenderDImage(s.renderD, name)));
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

/** `amdgpu-dmabuf_<id>.img` (no pages: the BO's contents are its exporter's). */
function planDmabufFile(files: PendingFile[], s: DmabufImageSet): void {
  const name = dmabufImageName(checkId(s.id, 'dmabuf image'));
  files.push(messageFile(name, encodeDmabufImage(s.dmabuf, name)));
}

function checkNamesOnce(files: readonly PendingFile[]): void {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.name)) throw new ImageError(f.name, 'file name', 'a name written once', f.name);
    seen.add(f.name);
  }
}

/** Writes each file under a temporary name, then renames all into place; on failure removes the temporaries. */
function commitFiles(dir: string, files: readonly PendingFile[]): void {
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
}
