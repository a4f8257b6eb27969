/**
 * The March 2025 render-node CRIU proposal (spec §8.1, src/ioctls/amdgpu/criu-v3.ts) as
 * sequences of calls: the dump is DRM_IOCTL_AMDGPU_CRIU_OP PROCESS_INFO + CHECKPOINT on the
 * drained render-node fd; the restore is one RESTORE ioctl that creates the BOs and their
 * mappings in the kernel, in stages: BOs imported from amdkfd wait (AMDGPU_CRIU_BO_FLAG_SKIP)
 * until the KFD restore produced their dma-buf, then a RESTORE_RETRY stage restores them,
 * with the BOs of earlier stages marked SKIP.
 *
 * The plugin side of the proposal is not in the spec; what this module does for it: it
 * marks IS_IMPORT the buckets whose BO is a KFD BO's import (found like the upstream dump,
 * through the drained fd), restores the render node before /dev/kfd so that those wait, and
 * issues RESTORE_RETRY for the second stage — falling back to RESTORE with the same buckets
 * when the kernel refuses RESTORE_RETRY (the posted ioctl has no case for it). A call that
 * oopses ends the sequence: the calling task is dead.
 */
import { encodeField } from '../ioctls/schema.js';
import { AMDGPU_CRIU_BO_FLAG as FLAG } from '../ioctls/amdgpu/uapi.js';
import type { CriuV3Bucket } from '../ioctls/amdgpu/criu-v3-uapi.js';
import { OOPS_RET } from '../ioctls/amdgpu/oops.js';
import type { World } from '../world/types.js';
import {
  CallIssuer,
  type DumpedKfd,
  dumpKfd,
  type IssuedCall,
  kfdImportsOf,
  RestoreSession,
  unpauseKfd,
} from './amdgpu-calls.js';
import type { DumpOptions, RestoreOptions, RestoreResult } from './amdgpu-upstream.js';

/** A bucket of the proposal's CHECKPOINT (struct drm_amdgpu_criu_bo_bucket, decoded by the ioctl's schema). */
export type V3Bucket = CriuV3Bucket;

export interface V3DumpedFile {
  gpu_id: number;
  bos: V3Bucket[];
  priv_data: Uint8Array;
  num_objs: number;
  /** The saved handle of each bucket (the bo priv's idr_handle), for reports. */
  handles: number[];
  /** Bucket index → the KFD checkpoint bucket whose BO it imports. */
  kfd_bo: Record<number, number>;
}

export interface V3Dump {
  kfd: DumpedKfd | null;
  drm: V3DumpedFile[];
}

/** The dump: KFD PROCESS_INFO + CHECKPOINT, CRIU_OP PROCESS_INFO + CHECKPOINT per render-node file, UNPAUSE. */
export function dumpV3(world: World, o: DumpOptions): { dump: V3Dump | null; calls: IssuedCall[]; world: World } {
  const x = new CallIssuer(world);
  const kfd = o.kfdFd === null ? null : dumpKfd(x, o.criu, o.app, o.kfdFd);
  let ok = o.kfdFd === null || kfd !== null;
  const drm: V3DumpedFile[] = [];
  for (const f of o.drmFds) {
    if (!ok) break;
    const file = { pid: o.app, fd: f.fd };
    const info = x.issue('drm dump', o.criu, 'DRM_IOCTL_AMDGPU_CRIU_OP', file, { op: 'PROCESS_INFO' });
    if (info.ret !== 0) {
      ok = false;
      break;
    }
    const c = x.issue('drm dump', o.criu, 'DRM_IOCTL_AMDGPU_CRIU_OP', file, {
      op: 'CHECKPOINT',
      bos: [],
      priv_data: '',
      num_bos: info.out.num_bos,
      num_objs: info.out.num_objs,
    });
    if (c.ret !== 0) {
      ok = false;
      break;
    }
    const bos = (c.out.bos as V3Bucket[]).map((b) => ({ ...b }));
    const blob = c.out.priv_data as Uint8Array;
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const handles = bos.map((_, i) => dv.getUint32(4 * i, true));
    const byHandle = kfd ? kfdImportsOf(x, o.criu, o.app, f.fd, kfd, handles) : new Map<number, number>();
    const kfdBo: Record<number, number> = {};
    handles.forEach((h, i) => {
      const k = byHandle.get(h);
      if (k !== undefined) kfdBo[i] = k;
    });
    drm.push({ gpu_id: f.gpu_id, bos, priv_data: blob, num_objs: info.out.num_objs as number, handles, kfd_bo: kfdBo });
  }
  if (o.kfdFd !== null) unpauseKfd(x, o.criu, o.app, o.kfdFd);
  return { dump: ok ? { kfd, drm } : null, calls: x.calls, world: x.world };
}

/** One RESTORE / RESTORE_RETRY of a file with the buckets as this stage sets them. */
function stage(x: CallIssuer, pid: number, fd: number, f: V3DumpedFile, op: string, buckets: V3Bucket[]) {
  return x.issue('drm restore', pid, 'DRM_IOCTL_AMDGPU_CRIU_OP', fd, {
    op,
    bos: buckets.map((b) => encodeField(undefined, b)),
    priv_data: Buffer.from(f.priv_data).toString('hex'),
    num_bos: buckets.length,
    num_objs: f.num_objs,
  });
}

/**
 * The restore: stage 1 RESTORE of every render-node file with the KFD imports SKIPped, the
 * KFD RESTORE, then stage 2 (RESTORE_RETRY, else RESTORE) with the stage-1 BOs SKIPped and
 * the imports given the dma-buf fds the KFD restore returned. With `kfdFirst` the KFD
 * RESTORE comes first and one stage does everything.
 */
export function restoreV3(world: World, dump: V3Dump, o: RestoreOptions): RestoreResult {
  const session = new RestoreSession(world, o.pid, dump.kfd);
  const { x, files } = session;
  const result = (failure: string | null) => session.result(failure);
  if (o.kfdFirst === true) {
    const f = session.restoreKfd();
    if (f) return result(f);
  }
  const done = dump.drm.map(() => new Set<number>());
  for (let pass = 0; pass < 2; pass++) {
    let waiting = false;
    for (let i = 0; i < dump.drm.length; i++) {
      const f = dump.drm[i]!;
      const buckets = f.bos.map((b, j) => {
        const out = { ...b, flags: b.flags & ~FLAG.SKIP };
        const k = f.kfd_bo[j];
        if (k !== undefined) {
          out.flags |= FLAG.IS_IMPORT;
          const exporter = session.kfdBuckets?.[k];
          if (!exporter) {
            out.flags |= FLAG.SKIP;
            waiting = true;
          } else out.dmabuf_fd = exporter.dmabuf_fd;
        }
        if (done[i]!.has(j)) out.flags |= FLAG.SKIP;
        return out;
      });
      if (buckets.every((b) => b.flags & FLAG.SKIP)) continue;
      const fd = files.drm[f.gpu_id]!;
      let r = stage(x, o.pid, fd, f, pass === 0 ? 'RESTORE' : 'RESTORE_RETRY', buckets);
      if (r.ret === OOPS_RET) return result(`kernel oops: ${String(r.out.oops)}`);
      if (r.ret !== 0 && pass > 0) r = stage(x, o.pid, fd, f, 'RESTORE', buckets);
      if (r.ret === OOPS_RET) return result(`kernel oops: ${String(r.out.oops)}`);
      if (r.ret !== 0) return result(`CRIU_OP RESTORE returned ${r.ret}`);
      buckets.forEach((b, j) => {
        if (!(b.flags & FLAG.SKIP)) done[i]!.add(j);
      });
    }
    if (pass === 0 && o.kfdFirst !== true) {
      const f = session.restoreKfd();
      if (f) return result(f);
    }
    if (pass === 0 && !waiting) break;
  }
  return result(null);
}
