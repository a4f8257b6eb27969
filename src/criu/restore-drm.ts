/**
 * amdgpu_plugin_drm_restore_file (spec §9.8 "Restore of a render-node file"), in the restored
 * task with the render fd the plugin opened for the target GPU: each BO not restored in an
 * earlier pass is imported from its published dma-buf (retry when its exporter — in this task
 * or another — has not published it yet) or created, given back its handle, published,
 * mmapped and mapped again at its GPU addresses; once no BO waits, the created BOs' contents
 * are written through their dma-buf fds (`sdma_write`, restore_bo_contents_drm).
 */
import type { RenderDImageSet } from './images/index.js';
import type { DrmBoEntry } from './images/index.js';
import { SDMA_WRITE } from '../ioctls/criu/sdma-write.js';
import { mapSavedBo } from './restore-drm-map.js';
import type { TaskRestore, TreeRestore } from './restore.js';

/** The render fd once every BO is restored, a failure, or undefined (retry). */
export function restoreDrmFile(r: TreeRestore, t: TaskRestore, img: RenderDImageSet): string | number | undefined {
  const rd = img.renderD;
  const fd = r.openDrm(t, r.map(t, rd.gpu_id));
  if (fd < 0) return `no GPU for render node ${rd.gpu_id}`;
  // work_already_completed(handle, minor): per task and keyed by the saved handle and render
  // minor, not by file, so a second render image of the same GPU skips the handles the first
  // one restored (spec §9.8).
  const done = (b: DrmBoEntry) => `${b.handle}:${rd.drm_render_minor}`;
  let retry = false;
  for (const b of rd.bo_entries) {
    if (t.done.has(done(b))) continue;
    const h = b.is_import ? importBo(r, t, fd, b, img.id) : createBo(r, t, fd, b, img.id);
    if (h === undefined) {
      retry = true;
      continue;
    }
    if (typeof h === 'string') return h;
    t.done.add(done(b));
    if (!t.handleFile.has(b.handle)) t.handleFile.set(b.handle, fd);
    const why = mapBo(r, t, fd, b);
    if (why) return why;
  }
  if (retry) return undefined;
  const why = restoreContents(r, t, img);
  return why ?? fd;
}

const GEM_DOMAIN_GTT = 0x2;
const GEM_DOMAIN_VRAM = 0x4;

/**
 * restore_bo_contents_drm, once the file needs no retry: the SDMA write of each created
 * VRAM/GTT BO with at least one GPU mapping from its pages image, through the dma-buf fd the
 * restore exported it to (spec §9.7, §9.8), one `sdma_write` per non-zero page.
 */
function restoreContents(r: TreeRestore, t: TaskRestore, img: RenderDImageSet): string | null {
  for (const [i, b] of img.renderD.bo_entries.entries()) {
    const content = img.contents?.[i];
    // imports too: restore_bo_contents_drm has no is_import test (their dma-buf fd is the fetched one)
    if (!content || (b.preferred_domains & (GEM_DOMAIN_GTT | GEM_DOMAIN_VRAM)) === 0) continue;
    if (b.vm_entries.length === 0) continue;
    const dfd = t.createdFd.get(`${img.id}:${b.handle}`);
    if (dfd === undefined) continue;
    for (const [page, value] of Object.entries(content)) {
      if (value === 0) continue;
      const wr = r.x.issue('RESTORE_EXT_FILE', t.pid, SDMA_WRITE, dfd, { page: Number(page), value });
      if (wr.ret !== 0) return `Failed to fill the BO using sDMA (${wr.ret})`;
    }
  }
  return null;
}

/** drmPrimeFDToHandle of the published dma-buf (fdstore_get), GEM_CHANGE_HANDLE to the saved handle. */
function importBo(
  r: TreeRestore,
  t: TaskRestore,
  fd: number,
  b: DrmBoEntry,
  fileId: number,
): string | number | undefined {
  const got = r.fetch(t, b.handle);
  if (!got) return undefined;
  if (got.ret !== 0) return `pidfd_getfd returned ${got.ret}`;
  const dfd = 'fd' in got ? got.fd : (got.out.fd as number);
  const imp = r.x.issue('RESTORE_EXT_FILE', t.pid, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', fd, { fd: dfd });
  if (imp.ret !== 0) return `PRIME_FD_TO_HANDLE returned ${imp.ret}`;
  const ch = changeHandle(r, t, fd, imp.out.handle as number, b.handle);
  // dmabufs[i] = dmabuf_fd: the contents of an import are written through the fd it came by
  if (typeof ch === 'number') t.createdFd.set(`${fileId}:${b.handle}`, dfd);
  return ch;
}

/**
 * GEM_CREATE, PRIME_HANDLE_TO_FD of the new handle (the fd its contents are written through and
 * importers get), GEM_CHANGE_HANDLE to the saved handle, store_dmabuf_fd (spec §9.8).
 */
function createBo(r: TreeRestore, t: TaskRestore, fd: number, b: DrmBoEntry, fileId: number): string | number {
  const c = r.x.issue('RESTORE_EXT_FILE', t.pid, 'DRM_IOCTL_AMDGPU_GEM_CREATE', fd, {
    bo_size: b.size,
    alignment: b.alignment,
    domains: b.preferred_domains,
    domain_flags: Number(b.alloc_flags),
  });
  if (c.ret !== 0) return `GEM_CREATE returned ${c.ret}`;
  const e = r.x.issue('RESTORE_EXT_FILE', t.pid, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', fd, { handle: c.out.handle });
  if (e.ret !== 0) return `Failed to get dmabuf fd from handle (${e.ret})`;
  const dfd = e.out.fd as number;
  t.dmabufFds.add(dfd);
  const ch = changeHandle(r, t, fd, c.out.handle as number, b.handle);
  if (typeof ch === 'string') return ch;
  t.createdFd.set(`${fileId}:${b.handle}`, dfd);
  if (!r.published.has(b.handle)) r.published.set(b.handle, { pid: t.pid, fd: dfd });
  return b.handle;
}

/** GEM_CHANGE_HANDLE to the saved handle, issued even when the handles are equal (the plugin does). */
function changeHandle(r: TreeRestore, t: TaskRestore, fd: number, h: number, want: number): string | number {
  const ch = r.x.issue('RESTORE_EXT_FILE', t.pid, 'DRM_IOCTL_GEM_CHANGE_HANDLE', fd, { handle: h, new_handle: want });
  return ch.ret !== 0 ? `GEM_CHANGE_HANDLE returned ${ch.ret}` : want;
}

/** GEM_MMAP (the new offset for UPDATE_VMA_MAP) and one GEM_VA MAP per saved mapping. */
function mapBo(r: TreeRestore, t: TaskRestore, fd: number, b: DrmBoEntry): string | null {
  const failed = mapSavedBo((call, raw) => r.x.issue('RESTORE_EXT_FILE', t.pid, call, fd, raw), b.handle, b.vm_entries);
  return failed && `${failed.call} returned ${failed.ret}`;
}
