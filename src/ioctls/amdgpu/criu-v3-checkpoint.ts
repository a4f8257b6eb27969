/**
 * CHECKPOINT of the 2025 amdgpu CRIU-ioctl proposal (amdgpu_criu_checkpoint, spec §8.1;
 * criu-v3.ts), defects included: per handle a bucket, a dma-buf fd of the caller (a failed
 * export ignored) and the VM mappings, written into a vm_privs buffer of num_objs entries.
 */
import { ERRNO } from '../../uapi/errno.js';
import type { World } from '../../world/types.js';
import type { DrmKernel } from '../drm/dispatch.js';
import { handleLookup } from '../drm/file.js';
import { KernelReturn } from '../registry.js';
import { handlesOf, primeHandleToFd, proposalMappings } from './criu-v3-file.js';
import {
  type CriuV3Args,
  type CriuV3BoPriv,
  type CriuV3Bucket,
  type CriuV3VmPriv,
  encodeCriuV3Priv,
  SRC,
} from './criu-v3-uapi.js';
import { gemBo, gemOf } from './kernel/gem.js';
import { type Defect, oops } from './oops.js';
import { AMDGPU_CRIU_BO_FLAG as FLAG, AMDGPU_GPU_PAGE_SIZE as PAGE } from './uapi.js';

// amdgpu_criu_checkpoint (amdgpu_criu.c:132-261, proposal v3), spec §8.1
export function checkpoint(k: DrmKernel, a: CriuV3Args, defects: Defect[]): number {
  const { w, file } = k;
  const handles = handlesOf(w, file.id);
  if ((a.num_bos ?? 0) !== handles.length) return -ERRNO.EINVAL;
  const numObjs = a.num_objs ?? 0;
  const buckets: CriuV3Bucket[] = [];
  const bos: CriuV3BoPriv[] = [];
  const vms: CriuV3VmPriv[] = [];
  // L144: `int fd` lives across the loop; zero-initialised once.
  let fd = 0;
  for (const id of handles) {
    const gem = handleLookup(w, file.id, id)!;
    const bucket = checkpointBucket(w, gem);
    bos.push({ idr_handle: id });
    fd = exportHandle(k, id, gem, fd, defects);
    if (fd !== 0) bucket.dmabuf_fd = fd;
    const r = checkpointMappings(k, id, gem, bucket, vms, numObjs);
    if (r !== 0) return r;
    buckets.push(bucket);
  }
  // L232-249: copy_to_user into NULL buffers → -EFAULT (the dma-buf fds stay installed).
  if (a.bos === null || a.priv_data === null) return -ERRNO.EFAULT;
  const padded = [...vms];
  while (padded.length < numObjs) padded.push({ start: 0n, last: 0n, offset: 0n, flags: 0n, idr_handle: 0 }); // kvzalloc'd, never written
  a.bos = buckets;
  a.priv_data = encodeCriuV3Priv(bos, padded);
  return 0;
}

/** The bucket of one object before its export and mappings: addr 0, dmabuf_fd 0. */
function checkpointBucket(w: World, gem: string): CriuV3Bucket {
  const g = gemOf(w, gem);
  const c = gemBo(w, gem);
  const bucket: CriuV3Bucket = {
    addr: 0n,
    size: g.size,
    offset: g.mmap_offset,
    restored_offset: 0n,
    alloc_flags: g.flags,
    preferred_domains: g.preferred_domains,
    dmabuf_fd: 0,
    flags: 0,
  };
  // is_import(): import_attach set and the dma-buf is not the object's own.
  if (c.import_attach !== null) bucket.flags |= FLAG.IS_IMPORT;
  return bucket;
}

/**
 * L193: drm_gem_prime_handle_to_fd(dev, data, id, 0, &fd), result ignored; L194 `if (fd)`.
 * Returns the new fd, or on failure `fd` as the loop left it.
 */
function exportHandle({ w, task, file }: DrmKernel, id: number, gem: string, fd: number, defects: Defect[]): number {
  try {
    return primeHandleToFd(w, task, file.id, id, gem, 0);
  } catch (e) {
    if (!(e instanceof KernelReturn)) throw e;
    defects.push({
      where: `${SRC}:193 amdgpu_criu_checkpoint`,
      what: `export of handle ${id} failed (${e.ret}), result ignored: dmabuf_fd ${fd === 0 ? 'left 0' : `= fd ${fd}, the previous BO's dma-buf`}`,
    });
    return fd;
  }
}

/** The object's mappings into vm_privs (bucket.addr: the last one's start); 0, or the oops of a write past num_objs. */
function checkpointMappings(
  { w, file, call }: DrmKernel,
  id: number,
  gem: string,
  bucket: CriuV3Bucket,
  vms: CriuV3VmPriv[],
  numObjs: number,
): number {
  for (const { m, line } of proposalMappings(w, file.id, gem)) {
    // L205 / L215: vm_privs[vm_priv_index] of a kvzalloc(args->num_objs) buffer.
    if (vms.length >= numObjs)
      return oops(
        w,
        call,
        `${SRC}:${line} amdgpu_criu_checkpoint`,
        `vm_privs[${vms.length}] written past the kvzalloc(num_objs = ${numObjs}) buffer: the VM has more mappings than the num_objs CRIU passed (slab-out-of-bounds write${numObjs === 0 ? '; a zero-size allocation is ZERO_SIZE_PTR, a page fault' : ''})`,
      );
    vms.push({ start: m.start, last: m.last, offset: m.offset, flags: BigInt(m.flags), idr_handle: id });
    bucket.addr = m.start * PAGE;
  }
  return 0;
}
