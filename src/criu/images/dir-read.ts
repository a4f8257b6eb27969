/**
 * Reading a directory of amdgpu plugin images (spec §9.1): the message images by their names,
 * then the pages images each of them needs, then what no image accounts for and the rules
 * restore applies across files. Files other than `amdgpu-*` are CRIU's own and ignored.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkAcross,
  type ImageDir,
  type ImageDirOptions,
  type KfdImageSet,
  kfdPagesPlan,
  type RenderDImageSet,
} from './dir-layout.js';
import { decodeDmabufImage, decodeKfdImage, decodeRenderDImage } from './messages.js';
import { checkPageSize, readPagesFile } from './pages.js';
import {
  DEFAULT_PAGE_SIZE,
  drmPagesImageName,
  ImageError,
  kfdImageName,
  type PageContent,
  renderDImageName,
} from './types.js';

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

/** One read of a directory: its `amdgpu-*` names, those an image accounted for, how to read pages. */
interface DirRead {
  dir: string;
  present: Set<string>;
  used: Set<string>;
  pageSize: number;
  withContent: boolean;
}

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
  const rd: DirRead = { dir, present: new Set(names), used: new Set<string>(), pageSize, withContent };
  const out = readMessageImages(rd, names, opts);
  for (const s of out.kfd) readKfdPages(rd, s);
  for (const s of out.renderD) readRenderDPages(rd, s);
  checkAllUsed(rd, names);
  checkAcross(out);
  const byId = <T extends { id: number }>(a: T, b: T) => a.id - b.id;
  out.kfd.sort(byId);
  out.renderD.sort(byId);
  out.dmabuf.sort(byId);
  return out;
}

/** The kfd, renderD and dmabuf message images, by the names the plugin prints. */
function readMessageImages(rd: DirRead, names: readonly string[], opts: ImageDirOptions): ImageDir {
  const out: ImageDir = { kfd: [], renderD: [], dmabuf: [] };
  for (const name of names) {
    for (const [re, kind] of NAME_PATTERNS) {
      const m = re.exec(name);
      if (!m) continue;
      const id = Number(m[1]);
      if (String(id) !== m[1] || id > 0x7fff_ffff) continue; // not a name the plugin prints (%d)
      rd.used.add(name);
      const bytes = readable(name, () => readFileSync(join(rd.dir, name)));
      if (kind === 'kfd') out.kfd.push({ id, kfd: decodeKfdImage(bytes, name, opts) });
      else if (kind === 'renderD') out.renderD.push({ id, renderD: decodeRenderDImage(bytes, name) });
      else out.dmabuf.push({ id, dmabuf: decodeDmabufImage(bytes, name) });
    }
  }
  return out;
}

/** The path of a pages image `owner` needs (`what` it is), which must be present. */
function need(rd: DirRead, name: string, owner: string, what: string): string {
  if (!rd.present.has(name))
    throw new ImageError(name, 'file', `present (${what} of ${owner})`, undefined, 'no such file');
  rd.used.add(name);
  return join(rd.dir, name);
}

/** The pages images of a KFD image (one per GPU, its VRAM/GTT BOs in bucket order) into `s.contents`. */
function readKfdPages(rd: DirRead, s: KfdImageSet): void {
  const owner = kfdImageName(s.id);
  const contents: (PageContent | undefined)[] = s.kfd.bo_entries.map(() => undefined);
  for (const plan of kfdPagesPlan(s.id, s.kfd)) {
    const path = need(rd, plan.name, owner, `the pages image of GPU 0x${plan.gpu.toString(16)}`);
    const segs = plan.bos.map((i) => ({ size: s.kfd.bo_entries[i]!.size, field: `bo_entries[${i}]` }));
    const what = `the sizes of the VRAM/GTT bo_entries of gpu_id 0x${plan.gpu.toString(16)} in ${owner}`;
    const got = readable(plan.name, () => readPagesFile(path, plan.name, segs, rd.pageSize, rd.withContent, what));
    plan.bos.forEach((i, k) => {
      contents[i] = got[k];
    });
  }
  s.contents = contents;
}

/** The pages image of each BO of a render-node image into `s.contents`. */
function readRenderDPages(rd: DirRead, s: RenderDImageSet): void {
  const owner = renderDImageName(s.id);
  s.contents = s.renderD.bo_entries.map((b, i) => {
    const name = drmPagesImageName(s.id, s.renderD.drm_render_minor, i);
    const path = need(rd, name, owner, `the pages image of bo_entries[${i}]`);
    const what = `the size of bo_entries[${i}] in ${owner}`;
    const segs = [{ size: b.size, field: 'content' }];
    return readable(name, () => readPagesFile(path, name, segs, rd.pageSize, rd.withContent, what))[0];
  });
}

/** Every `amdgpu-*` file must be an image or a pages image one of them needs. */
function checkAllUsed(rd: DirRead, names: readonly string[]): void {
  for (const name of names) {
    if (!rd.used.has(name)) {
      throw new ImageError(
        name,
        'file name',
        'an amdgpu image that the directory accounts for (spec §9.1 names; pages images need their kfd/renderD image)',
        name,
        'an unexpected file',
      );
    }
  }
}
