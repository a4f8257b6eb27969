/**
 * RESTORE_EXT_FILE for /dev/kfd (spec §9.5 step 3), in the restored task: the plugin opens
 * /dev/kfd and a render fd per GPU, calls CRIU_OP(RESTORE) with the image's buckets and priv
 * data, publishes the dma-buf fds of BOs with a GEM handle for the render-node files of any
 * task (store_dmabuf_fd), and writes the BOs' contents — the saved pages (restore_bo_data) and
 * CRIU core's userptr memory — as gpu_write calls.
 */
import { KFD_CRIU_OP, KFD_INVALID_FD, MAKE_HANDLE } from '../uapi/index.js';
import type { CallResult } from '../world/step.js';
import type { KfdDeviceEntry, KfdImageSet, PageContent } from './images/index.js';
import { NO_GEM_HANDLE } from './images/index.js';
import { criuVersionFailure, kfdBoIndex } from './orchestrate-common.js';
import { fillRestoreMaps } from './restore-maps.js';
import type { TaskRestore, TreeRestore } from './restore-tree.js';

/** RESTORE_EXT_FILE for /dev/kfd (spec §9.5 step 3): a failure or the kfd fd. */
export function restoreKfdFile(r: TreeRestore, t: TaskRestore, k: KfdImageSet): string | number {
  const { x, w } = r;
  const pid = t.pid;
  const open = x.issue('RESTORE_EXT_FILE', pid, 'open', undefined, { path: '/dev/kfd' });
  if (open.ret < 0 || typeof open.out.fd !== 'number') return `open /dev/kfd returned ${open.ret}`;
  const kfdFd = open.out.fd;
  // kernel_supports_criu(fd) on the new /dev/kfd (spec §9.5 step 3.1)
  const tooOld = criuVersionFailure(x.issue('RESTORE_EXT_FILE', pid, 'AMDKFD_IOC_GET_VERSION', kfdFd, {}));
  if (tooOld !== null) return tooOld;
  // devinfo_to_topology, topology_parse("Local"), set_restore_gpu_maps (spec §9.5 step 3.3). A
  // map that succeeds names every GPU of the image, so restore_devices' check of
  // maps_get_dest_gpu (0 → -ENODEV) cannot fail after it.
  const unmapped = fillRestoreMaps(w, k, t.restoreMaps, r.o.remap ?? {});
  if (unmapped !== null) return unmapped;
  const gpus = k.kfd.device_entries.filter((d) => d.gpu_id !== 0);
  const res = x.issue('RESTORE_EXT_FILE', pid, 'AMDKFD_IOC_CRIU_OP', kfdFd, criuRestoreArgs(r, t, k, gpus));
  if (res.ret !== 0) {
    r.restoreIoctlRet = res.ret;
    return `Restore ioctl failed (${res.ret})`;
  }
  r.kfdRestoredPids.add(pid);
  publishDmabufs(r, t, k, res);
  restoreKfdContents(r, t, k, kfdFd);
  return kfdFd;
}

/**
 * CRIU_OP(RESTORE)'s arguments as the schema decodes them (criuArgsSchema's fields in order;
 * u64 fields as bigints): Issuer takes them as they are, no decoding per bucket. priv_data is
 * the image's buffer itself, as the plugin hands the kernel the blob it read: the handler only
 * reads it (src/world/step.ts, test/unit/step-args.test.ts). Opens the task's render fd of each
 * GPU (node_get_drm_render_device).
 */
function criuRestoreArgs(
  r: TreeRestore,
  t: TaskRestore,
  k: KfdImageSet,
  gpus: KfdDeviceEntry[],
): Record<string, unknown> {
  return {
    devices: gpus.map((d) => ({
      user_gpu_id: d.gpu_id,
      actual_gpu_id: r.map(t, d.gpu_id),
      drm_fd: r.openDrm(t, r.map(t, d.gpu_id)),
      pad: 0,
    })),
    bos: k.kfd.bo_entries.map((b) => ({
      addr: b.addr,
      size: b.size,
      offset: b.offset,
      restored_offset: 0n,
      gpu_id: b.gpu_id,
      alloc_flags: b.alloc_flags,
      dmabuf_fd: KFD_INVALID_FD,
      pad: 0,
    })),
    priv_data: k.kfd.priv_data,
    priv_data_size: null,
    num_devices: null,
    num_bos: null,
    num_objects: k.kfd.num_of_objects,
    pid: 0,
    op: KFD_CRIU_OP.RESTORE,
  };
}

/** The dma-buf fds RESTORE made in the task; store_dmabuf_fd publishes those of BOs with a GEM handle. */
function publishDmabufs(r: TreeRestore, t: TaskRestore, k: KfdImageSet, res: CallResult): void {
  const out = (res.out.bos as { dmabuf_fd: number }[] | undefined) ?? [];
  k.kfd.bo_entries.forEach((b, i) => {
    const dfd = out[i]?.dmabuf_fd ?? KFD_INVALID_FD;
    if (dfd !== KFD_INVALID_FD) t.dmabufFds.add(dfd);
    // store_dmabuf_fd: publish for render-node importers of any task (spec §9.5 step 3.7)
    if (b.handle !== NO_GEM_HANDLE && dfd !== KFD_INVALID_FD && !r.published.has(b.handle))
      r.published.set(b.handle, { pid: t.pid, fd: dfd });
  });
}

/** restore_bo_data (SDMA write, spec §9.5 step 3.8) and CRIU core's userptr pages, as gpu_write calls. */
function restoreKfdContents(r: TreeRestore, t: TaskRestore, k: KfdImageSet, kfdFd: number): void {
  const { x, w } = r;
  // the BOs something is written to: a saved page that is not 0, or CRIU core's memory
  const hasPage = (c: PageContent | undefined) => {
    for (const p in c) if (c[p as unknown as number] !== 0) return true;
    return false;
  };
  const memory = (r.o.memory ?? []).filter((m) => m.pid === t.origPid);
  const written = k.kfd.bo_entries.filter((_b, i) => hasPage(k.contents?.[i]));
  const index = kfdBoIndex(w, t.pid, [...written, ...memory]);
  k.kfd.bo_entries.forEach((b, i) => {
    const content = k.contents?.[i];
    const found = content && index.get(b.gpu_id, b.addr);
    if (!content || !found) return;
    const handle = MAKE_HANDLE(b.gpu_id, found.idr);
    for (const [page, value] of Object.entries(content))
      if (value !== 0)
        x.issue('RESTORE_EXT_FILE', t.pid, 'gpu_write', kfdFd, { handle, page: Number(page), value, tt: 0, obj: 0 });
  });
  // CRIU core's premapped private memory: the userptr BOs' pages (modelled as gpu_write)
  for (const m of memory) {
    const found = index.get(m.gpu_id, m.addr);
    if (!found) continue;
    const handle = MAKE_HANDLE(m.gpu_id, found.idr);
    for (const [page, value] of Object.entries(m.content))
      if (value !== 0)
        x.issue('CRIU memory', t.pid, 'gpu_write', kfdFd, { handle, page: Number(page), value, tt: 0, obj: 0 });
  }
}
