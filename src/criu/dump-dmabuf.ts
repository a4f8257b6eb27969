/**
 * The amdgpu plugin's dump of dma-buf fds (spec §9.8; amdgpu_plugin_dmabuf.c): a dma-buf fd
 * names its BO by the GEM handle of the render-node file that exports it, so one whose exporter
 * is not dumped yet waits in `dmabuf_list` and is retried after every render-node file
 * (`try_dump_dmabuf_list`); DUMP_DEVICES_LATE fails if one is still waiting.
 *
 * How the handle is found depends on the `plugin-shared-bos` variant: by-object takes the handle
 * of the first dumped render-node file that holds the same BO; by-number does what
 * `handle_for_shared_bo_fd` does — PRIME_FD_TO_HANDLE of the dma-buf on every dumped render-node
 * file, newest first, and the first number the shared-BO list has. That call imports the dma-buf
 * into a file that does not hold it (a new handle, kept after the dump), and the new number may
 * be another BO's.
 */
import { send } from '../world/objects.js';
import type { OpenFile } from '../world/types.js';
import type { TaskFd, TreeDump } from './dump-state.js';

/** The GEM handle a dma-buf fd is saved under, or undefined while no dumped file names it. */
function handleFor(d: TreeDump, gem: string, ref: TaskFd): number | undefined {
  if (d.w.variants['plugin-shared-bos'] !== 'by-number') return d.shared.get(gem);
  // CRIU holds a copy of the task's fd (sent by the parasite); the model takes one with pidfd_getfd
  const got = d.x.issue('DUMP_EXT_FILE', d.criu, 'pidfd_getfd', undefined, { pid: ref.pid, targetfd: ref.fd });
  if (got.ret !== 0) return undefined;
  const fd = got.out.fd as number;
  let found: number | undefined;
  // dumped_fds: record_dumped_fd adds at the head, so the newest file is tried first
  for (const drm of [...d.drmRefs].reverse()) {
    const r = d.x.issue('DUMP_EXT_FILE', d.criu, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', drm, { fd });
    if (r.ret === 0 && d.sharedNumbers.has(r.out.handle as number)) {
      found = r.out.handle as number;
      break;
    }
  }
  d.x.issue('DUMP_EXT_FILE', d.criu, 'close', undefined, { fd });
  return found;
}

/** amdgpu_plugin_dmabuf_dump: matched to a dumped render-node file, else deferred (spec §9.8). */
export function dumpDmabuf(d: TreeDump, ref: TaskFd, id: number, file: Extract<OpenFile, { kind: 'dmabuf' }>): null {
  const h = handleFor(d, file.gem, ref);
  if (h === undefined) {
    d.deferred.push({ id, gem: file.gem, ref });
    send(d.w, d.obj, { type: 'DMABUF_DEFERRED' });
  } else {
    d.images.dmabuf.push({ id, dmabuf: { gem_handle: h } });
    send(d.w, d.obj, { type: 'DMABUF_DUMPED' });
  }
  return null;
}

/** try_dump_dmabuf_list: dumps the deferred fds a render-node file now names; how many. */
export function tryDumpDmabufList(d: TreeDump): number {
  let n = 0;
  for (let i = d.deferred.length - 1; i >= 0; i--) {
    const def = d.deferred[i]!;
    const h = handleFor(d, def.gem, def.ref);
    if (h === undefined) continue;
    d.images.dmabuf.push({ id: def.id, dmabuf: { gem_handle: h } });
    d.deferred.splice(i, 1);
    n++;
  }
  return n;
}
