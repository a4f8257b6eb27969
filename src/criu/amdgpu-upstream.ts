/**
 * The upstream render-node CRIU design (Linux 6.18 + the criu-dev amdgpu plugin, spec §8.2,
 * §9.8) as sequences of ordinary calls: the dump reads the state with GEM_LIST_HANDLES,
 * GEM_MMAP and GEM_OP(GET_MAPPING_INFO); the restore goes through the ioctls that created or
 * imported each BO (GEM_CREATE or PRIME_FD_TO_HANDLE), then GEM_CHANGE_HANDLE to the saved
 * handle, GEM_MMAP, and one GEM_VA MAP per saved mapping — Christian König's condition
 * ("Restore must use the same IOCTLs who were used to originally create or import the BOs").
 *
 * The plugin's control flow is kept: BOs in LIST_HANDLES order; an import whose exporter's
 * dma-buf is not published yet is left for a retry pass; any failing ioctl aborts the
 * file's restore (amdgpu_plugin_drm_restore_file returns -1).
 */
import type { GemListHandlesEntry } from '../ioctls/amdgpu/gem.js';
import { KFD_INVALID_FD } from '../uapi/index.js';
import type { World } from '../world/types.js';
import {
  CallIssuer,
  type DumpedKfd,
  dumpKfd,
  type IssuedCall,
  type KfdBucket,
  kfdImportsOf,
  RestoreSession,
  unpauseKfd,
} from './amdgpu-calls.js';
import { mapSavedBo } from './restore-drm-map.js';

/** One saved mapping: drm_amdgpu_gem_vm_entry. */
export interface DumpedVmEntry {
  addr: bigint;
  size: bigint;
  offset: bigint;
  flags: bigint;
}

/** One render-node BO as the plugin saves it (DrmBoEntry, spec §9.2, §9.8). */
export interface DumpedDrmBo {
  handle: number;
  size: bigint;
  alloc_flags: bigint;
  preferred_domains: bigint;
  alignment: bigint;
  /** IS_IMPORT, or the BO is the import of a KFD BO of the dump. */
  is_import: boolean;
  /** The KFD checkpoint bucket this BO imports (its dma-buf is what the restore imports). */
  kfd_bo: number | null;
  /** The GEM_MMAP offset at dump time. */
  offset: bigint;
  vm_entries: DumpedVmEntry[];
}

export interface UpstreamDump {
  kfd: DumpedKfd | null;
  /** Per dumped render-node file: its GPU and BOs. */
  drm: { gpu_id: number; bos: DumpedDrmBo[] }[];
}

export interface DumpOptions {
  /** CRIU (the ptrace parent of the application). */
  criu: number;
  app: number;
  kfdFd: number | null;
  /** The application's render-node fds to dump, with their GPUs. */
  drmFds: { gpu_id: number; fd: number }[];
}

/**
 * One BO of a render-node file (the loop body of amdgpu_plugin_drm_dump_file): its GEM_MMAP
 * offset, its mappings, its content through a dma-buf; null when an ioctl fails.
 */
function dumpDrmBo(
  x: CallIssuer,
  o: DumpOptions,
  file: { pid: number; fd: number },
  e: GemListHandlesEntry,
  kfdBo: number | null,
): DumpedDrmBo | null {
  const mmap = x.issue('drm dump', o.criu, 'DRM_IOCTL_AMDGPU_GEM_MMAP', file, { handle: e.gem_handle });
  if (mmap.ret !== 0) return null;
  let info = x.issue('drm dump', o.criu, 'DRM_IOCTL_AMDGPU_GEM_OP', file, {
    handle: e.gem_handle,
    op: 'GET_MAPPING_INFO',
    num_entries: 8,
  });
  if (info.ret !== 0) return null;
  if ((info.out.num_entries as number) > 8) {
    info = x.issue('drm dump', o.criu, 'DRM_IOCTL_AMDGPU_GEM_OP', file, {
      handle: e.gem_handle,
      op: 'GET_MAPPING_INFO',
      num_entries: info.out.num_entries,
    });
    if (info.ret !== 0) return null;
  }
  // The content is copied through a dma-buf of the BO (sdma_copy_bo), closed afterwards.
  const prime = x.issue('drm dump', o.criu, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', file, { handle: e.gem_handle });
  if (prime.ret === 0) x.issue('drm dump', o.criu, 'close', undefined, { fd: prime.out.fd });
  return {
    handle: e.gem_handle,
    size: e.size,
    alloc_flags: e.alloc_flags,
    preferred_domains: e.preferred_domains,
    alignment: e.alignment,
    is_import: (e.flags & 1) !== 0 || kfdBo !== null,
    kfd_bo: kfdBo,
    offset: mmap.out.addr_ptr as bigint,
    vm_entries: ((info.out.vm_entries as DumpedVmEntry[] | undefined) ?? []).map((v) => ({ ...v })),
  };
}

/** amdgpu_plugin_drm_dump_file for one file (spec §9.8 "Dump of a render-node fd"). */
function dumpDrmFile(x: CallIssuer, o: DumpOptions, fd: number, kfd: DumpedKfd | null): DumpedDrmBo[] | null {
  const file = { pid: o.app, fd };
  let list = x.issue('drm dump', o.criu, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', file, { num_entries: 8 });
  // "This kernel appears not to have AMDGPU_GEM_LIST_HANDLES ioctl": treated as no BOs.
  if (list.ret !== 0) return list.ret === -22 ? [] : null;
  if ((list.out.num_entries as number) > 8) {
    list = x.issue('drm dump', o.criu, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', file, {
      num_entries: list.out.num_entries,
    });
    if (list.ret !== 0) return null;
  }
  const entries = (list.out.entries as GemListHandlesEntry[] | undefined) ?? [];
  const imports = kfd
    ? kfdImportsOf(
        x,
        o.criu,
        o.app,
        fd,
        kfd,
        entries.map((e) => e.gem_handle),
      )
    : new Map();
  const bos: DumpedDrmBo[] = [];
  for (const e of entries) {
    const bo = dumpDrmBo(x, o, file, e, imports.get(e.gem_handle) ?? null);
    if (bo === null) return null;
    bos.push(bo);
  }
  return bos;
}

/** The dump: KFD PROCESS_INFO + CHECKPOINT, every render-node file, UNPAUSE, the dma-buf fds closed. */
export function dumpUpstream(
  world: World,
  o: DumpOptions,
): { dump: UpstreamDump | null; calls: IssuedCall[]; world: World } {
  const x = new CallIssuer(world);
  const kfd = o.kfdFd === null ? null : dumpKfd(x, o.criu, o.app, o.kfdFd);
  const drm: UpstreamDump['drm'] = [];
  let ok = o.kfdFd === null || kfd !== null;
  for (const f of o.drmFds) {
    if (!ok) break;
    const bos = dumpDrmFile(x, o, f.fd, kfd);
    if (bos === null) ok = false;
    else drm.push({ gpu_id: f.gpu_id, bos });
  }
  if (o.kfdFd !== null) unpauseKfd(x, o.criu, o.app, o.kfdFd);
  for (const b of kfd?.bos ?? [])
    if (b.dmabuf_fd !== KFD_INVALID_FD) x.issue('kfd dump', o.criu, 'close', undefined, { fd: b.dmabuf_fd });
  return { dump: ok ? { kfd, drm } : null, calls: x.calls, world: x.world };
}

export interface RestoreOptions {
  /** The fresh process the dump is restored into. */
  pid: number;
  /**
   * Restore the KFD state first (CRIU restores /dev/kfd before the task's render-node files,
   * spec §11.5; default) or after the render-node files' first pass.
   */
  kfdFirst?: boolean;
}

export interface RestoreResult {
  /** True when every step the design takes succeeded. */
  ok: boolean;
  calls: IssuedCall[];
  world: World;
  /** The restored process's render-node fds, by GPU. */
  drmFds: Record<number, number>;
  /** Why it stopped, if it did. */
  failure: string | null;
}

/** amdgpu_plugin_drm_restore_file, one pass (spec §9.8): returns "done", "retry" or a failure. */
function restoreDrmPass(
  x: CallIssuer,
  pid: number,
  fd: number,
  bos: readonly DumpedDrmBo[],
  done: Set<number>,
  kfdBuckets: KfdBucket[] | null,
): 'done' | 'retry' | string {
  let retry = false;
  for (const b of bos) {
    if (done.has(b.handle)) continue;
    let handle: number;
    if (b.is_import) {
      // amdgpu_id_for_handle / fdstore_get: the exporter's published dma-buf.
      const exporter = b.kfd_bo === null ? undefined : kfdBuckets?.[b.kfd_bo];
      if (!exporter || exporter.dmabuf_fd === KFD_INVALID_FD) {
        retry = true;
        continue;
      }
      const r = x.issue('drm restore', pid, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', fd, { fd: exporter.dmabuf_fd });
      if (r.ret !== 0) return `PRIME_FD_TO_HANDLE of saved handle ${b.handle} returned ${r.ret}`;
      handle = r.out.handle as number;
    } else {
      const r = x.issue('drm restore', pid, 'DRM_IOCTL_AMDGPU_GEM_CREATE', fd, {
        bo_size: b.size,
        alignment: b.alignment,
        domains: Number(b.preferred_domains),
        domain_flags: Number(b.alloc_flags),
      });
      if (r.ret !== 0) return `GEM_CREATE for saved handle ${b.handle} returned ${r.ret}`;
      handle = r.out.handle as number;
      // drmPrimeHandleToFD: the dma-buf for the content copy and for importers (store_dmabuf_fd).
      x.issue('drm restore', pid, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', fd, { handle });
    }
    const ch = x.issue('drm restore', pid, 'DRM_IOCTL_GEM_CHANGE_HANDLE', fd, { handle, new_handle: b.handle });
    if (ch.ret !== 0) return `GEM_CHANGE_HANDLE ${handle} → ${b.handle} returned ${ch.ret}`;
    done.add(b.handle);
    const failed = mapSavedBo((call, raw) => x.issue('drm restore', pid, call, fd, raw), b.handle, b.vm_entries);
    if (failed?.call === 'GEM_MMAP') return `GEM_MMAP of handle ${b.handle} returned ${failed.ret}`;
    if (failed) return `GEM_VA MAP of handle ${b.handle} at 0x${failed.entry.addr.toString(16)} returned ${failed.ret}`;
  }
  return retry ? 'retry' : 'done';
}

/**
 * The restore: the restored process opens its files; KFD RESTORE (spec §5.4) and the
 * render-node passes in CRIU's order, a pass repeated while an import waits for its dma-buf.
 */
export function restoreUpstream(world: World, dump: UpstreamDump, o: RestoreOptions): RestoreResult {
  const session = new RestoreSession(world, o.pid, dump.kfd);
  const { x, files } = session;
  const result = (failure: string | null) => session.result(failure);
  const kfdFirst = o.kfdFirst !== false;
  if (kfdFirst) {
    const f = session.restoreKfd();
    if (f) return result(f);
  }
  const done = dump.drm.map(() => new Set<number>());
  let pending = true;
  for (let pass = 0; pending && pass < 2; pass++) {
    pending = false;
    for (let i = 0; i < dump.drm.length; i++) {
      const d = dump.drm[i]!;
      const r = restoreDrmPass(x, o.pid, files.drm[d.gpu_id]!, d.bos, done[i]!, session.kfdBuckets);
      if (r === 'retry') pending = true;
      else if (r !== 'done') return result(r);
    }
    if (pass === 0 && !kfdFirst) {
      const f = session.restoreKfd();
      if (f) return result(f);
    }
  }
  return result(pending ? 'an import never found its exporter’s dma-buf' : null);
}
