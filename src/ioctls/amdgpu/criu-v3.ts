/**
 * The March 2025 proposal: DRM_IOCTL_AMDGPU_CRIU_OP ("[PATCH v3 2/3] drm/amdgpu: Adding
 * amdgpu CRIU ioctl", amd-gfx 2025-03-28, a new amdgpu_criu.c; spec §8.1). Never merged:
 * Christian König refused a restore that does not go through the creating ioctls. Under the
 * `amdgpu-criu: "criu-ioctl-v3"` variant gpucr runs it as posted, defects included; every
 * line reference below is a line of the posted amdgpu_criu.c (462 lines).
 *
 * Assumptions of the model: the kernel zero-initialises automatic variables
 * (CONFIG_INIT_STACK_ALL_ZERO), so a variable the code never sets reads 0 / NULL; nothing
 * is interrupted (reserve_bo_and_vm succeeds); allocations succeed.
 */
import { ERRNO } from '../../uapi/errno.js';
import { installFd } from '../../world/fds.js';
import type { World } from '../../world/types.js';
import { type DrmKernel, registerDrm } from '../drm/dispatch.js';
import { handleCreate, handleLookup, primeAdd, primeByHandle } from '../drm/file.js';
import { objectDmabuf } from '../drm/prime.js';
import { KernelReturn } from '../registry.js';
import { arrayOf, bytes, enumOf, flags, nullable, struct, u32, u64 } from '../schema.js';
import { createGem, gemBo, gemOf, gemSend } from './kernel/gem.js';
import type { BoVaMapping } from '../../../machines/amdgpu/bo-va.js';
import { boVa, boVaFind, boVaGet, verifyParameters, vmMap, vmUpdate } from './kernel/vm.js';
import { type Defect, OOPS_RET, oops } from './oops.js';
import {
  AMDGPU_CRIU_BO_FLAG as FLAG,
  AMDGPU_CRIU_OP as OP,
  AMDGPU_GEM_CREATE as C,
  AMDGPU_GEM_DOMAIN as D,
  AMDGPU_GPU_PAGE_SIZE as PAGE,
  DRM_PRIME_FLAGS,
} from './uapi.js';

const SRC = 'amdgpu_criu.c';

/** struct drm_amdgpu_criu_bo_bucket (amdgpu_drm.h of the proposal). */
export interface CriuV3Bucket {
  addr: bigint;
  size: bigint;
  offset: bigint;
  restored_offset: bigint;
  alloc_flags: number;
  preferred_domains: number;
  dmabuf_fd: number;
  flags: number;
}

/** struct drm_amdgpu_criu_bo_priv_data (4 bytes) and drm_amdgpu_criu_vm_mapping_priv_data (40 bytes, amdgpu_criu.h). */
export interface CriuV3BoPriv {
  idr_handle: number;
}

export interface CriuV3VmPriv {
  start: bigint;
  last: bigint;
  offset: bigint;
  flags: bigint;
  idr_handle: number;
}

export const BO_PRIV_SIZE = 4;
export const VM_PRIV_SIZE = 40;

/** The priv_data blob: bo privs packed, then the vm privs (at 4 × num_bos, unaligned if num_bos is odd). */
export function encodeCriuV3Priv(bos: readonly CriuV3BoPriv[], vms: readonly CriuV3VmPriv[]): Uint8Array {
  const out = new Uint8Array(BO_PRIV_SIZE * bos.length + VM_PRIV_SIZE * vms.length);
  const dv = new DataView(out.buffer);
  bos.forEach((b, i) => dv.setUint32(i * BO_PRIV_SIZE, b.idr_handle, true));
  vms.forEach((m, i) => {
    const o = BO_PRIV_SIZE * bos.length + i * VM_PRIV_SIZE;
    dv.setBigUint64(o, m.start, true);
    dv.setBigUint64(o + 8, m.last, true);
    dv.setBigUint64(o + 16, m.offset, true);
    dv.setBigUint64(o + 24, m.flags, true);
    dv.setUint32(o + 32, m.idr_handle, true);
  });
  return out;
}

/** copy_from_user of num_bos bo privs and num_objs vm privs: null if the blob is shorter. */
export function decodeCriuV3Priv(
  blob: Uint8Array | null,
  numBos: number,
  numObjs: number,
): { bos: CriuV3BoPriv[]; vms: CriuV3VmPriv[] } | null {
  const need = BO_PRIV_SIZE * numBos + VM_PRIV_SIZE * numObjs;
  if (need === 0) return { bos: [], vms: [] };
  if (blob === null || blob.length < need) return null;
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const bos = Array.from({ length: numBos }, (_, i) => ({ idr_handle: dv.getUint32(i * BO_PRIV_SIZE, true) }));
  const vms = Array.from({ length: numObjs }, (_, i) => {
    const o = BO_PRIV_SIZE * numBos + i * VM_PRIV_SIZE;
    return {
      start: dv.getBigUint64(o, true),
      last: dv.getBigUint64(o + 8, true),
      offset: dv.getBigUint64(o + 16, true),
      flags: dv.getBigUint64(o + 24, true),
      idr_handle: dv.getUint32(o + 32, true),
    };
  });
  return { bos, vms };
}

interface CriuV3Args {
  bos: CriuV3Bucket[] | null;
  priv_data: Uint8Array | null;
  priv_data_size: bigint | null;
  num_bos: number | null;
  num_objs: number | null;
  pid: number;
  op: number;
  oops: string | null;
  defects: Defect[] | null;
}

const bucketSchema = struct({
  addr: u64,
  size: u64,
  offset: u64,
  restored_offset: u64,
  alloc_flags: flags(C, 'AMDGPU_GEM_CREATE_'),
  preferred_domains: flags(D, 'AMDGPU_GEM_DOMAIN_'),
  dmabuf_fd: u32,
  flags: flags(FLAG, 'AMDGPU_CRIU_BO_FLAG_'),
});

/** Handles of a file in IDR order (idr_for_each_entry). */
function handlesOf(w: World, fileId: string): number[] {
  return Object.keys(w.drm?.[fileId]?.object_idr ?? {})
    .map(Number)
    .sort((a, b) => a - b);
}

/** avm->task_info->pid: the process the VM works for (its compute VM owner, else the first holder of the file). */
function vmTaskPid(w: World, fileId: string): number {
  const f = w.files[fileId];
  if (f?.kind === 'drm' && f.compute_vm_pid !== null) return f.compute_vm_pid;
  const pids = Object.values(w.tasks)
    .filter((t) => t.alive && Object.values(t.fds).includes(fileId))
    .map((t) => t.pid)
    .sort((a, b) => a - b);
  return pids[0] ?? 0;
}

/** The mappings of an object in the file's VM in the order the proposal walks them: invalids, then valids. */
function proposalMappings(w: World, fileId: string, gem: string): { m: BoVaMapping; line: number }[] {
  const bv = boVaFind(w, fileId, gem);
  if (!bv) return [];
  const c = boVa(w, bv);
  return [...c.invalids.map((m) => ({ m, line: 205 })), ...c.valids.map((m) => ({ m, line: 215 }))];
}

// amdgpu_criu_process_info (amdgpu_criu.c:87-130, proposal v3), spec §8.1
function processInfo({ w, file }: DrmKernel, a: CriuV3Args): number {
  const handles = handlesOf(w, file.id);
  let maps = 0;
  for (const h of handles) maps += proposalMappings(w, file.id, handleLookup(w, file.id, h)!).length;
  a.num_bos = handles.length;
  a.num_objs = maps;
  a.priv_data_size = BigInt(BO_PRIV_SIZE * handles.length + VM_PRIV_SIZE * maps);
  a.pid = vmTaskPid(w, file.id);
  return 0;
}

// amdgpu_criu_checkpoint (amdgpu_criu.c:132-261, proposal v3), spec §8.1
function checkpoint(k: DrmKernel, a: CriuV3Args, defects: Defect[]): number {
  const { w, task, file, call } = k;
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
    bos.push({ idr_handle: id });
    // is_import(): import_attach set and the dma-buf is not the object's own.
    if (c.import_attach !== null) bucket.flags |= FLAG.IS_IMPORT;
    // L193: drm_gem_prime_handle_to_fd(dev, data, id, 0, &fd), result ignored; L194 `if (fd)`.
    try {
      let dmabuf = primeByHandle(w, file.id, id);
      if (dmabuf === undefined) {
        dmabuf = objectDmabuf(w, gem, 0);
        primeAdd(w, file.id, dmabuf, id);
      }
      fd = installFd(w, task, dmabuf);
    } catch (e) {
      if (!(e instanceof KernelReturn)) throw e;
      defects.push({
        where: `${SRC}:193 amdgpu_criu_checkpoint`,
        what: `export of handle ${id} failed (${e.ret}), result ignored: dmabuf_fd ${fd === 0 ? 'left 0' : `= fd ${fd}, the previous BO's dma-buf`}`,
      });
    }
    if (fd !== 0) bucket.dmabuf_fd = fd;
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

// amdgpu_criu_restore (amdgpu_criu.c:269-426, proposal v3), spec §8.1
function restore(k: DrmKernel, a: CriuV3Args, defects: Defect[]): number {
  const { w, task, file, call } = k;
  const numBos = a.num_bos ?? a.bos?.length ?? 0;
  const numObjs = a.num_objs ?? 0;
  // L286-312: copy_from_user of the buckets and of both priv arrays; short → -EINVAL.
  if (numBos > 0 && (a.bos === null || a.bos.length < numBos)) return -ERRNO.EINVAL;
  const priv = decodeCriuV3Priv(a.priv_data, numBos, numObjs);
  if (priv === null) return -ERRNO.EINVAL;
  const buckets = (a.bos ?? []).slice(0, numBos).map((b) => ({ ...b }));
  let restored: string | null = null;
  for (let i = 0; i < numBos; i++) {
    const b = buckets[i]!;
    const idr = priv.bos[i]!.idr_handle;
    // L321: "Either this bo is waiting for a dmabuf_fd to be restored or it has already been restored".
    if (b.flags & FLAG.SKIP) continue;
    if (!(b.flags & FLAG.IS_IMPORT)) {
      // L334: amdgpu_gem_object_create(adev, size, 1, preferred_domains, alloc_flags, device, …).
      const page = BigInt(w.topology.page_size);
      const gem = createGem(w, {
        gpu_id: file.gpu_id,
        size: ((b.size + page - 1n) / page) * page,
        preferred_domains: b.preferred_domains,
        flags: b.alloc_flags,
        page_alignment: 1,
        alloc_flags: 0,
        userptr: false,
        import_attach: null,
        kfd_vram: 0n,
      });
      restored = gem;
      // L341: drm_gem_handle_create(data, obj, &handle), result ignored; the creation reference is never put.
      const handle = handleCreate(w, file.id, gem);
      gemSend(w, gem, { type: 'LEAK_REF' });
      defects.push({
        where: `${SRC}:341 amdgpu_criu_restore`,
        what: `the reference amdgpu_gem_object_create returned is never dropped (no drm_gem_object_put): the object of handle ${handle} can never be freed`,
      });
      // L342: drm_prime_change_buf_handle looks the handle up by obj->dma_buf, which a new object does not have.
      if (handle !== idr)
        defects.push({
          where: `${SRC}:342 amdgpu_criu_restore`,
          what: `drm_prime_change_buf_handle(…, ${idr}) → -ENOENT (a new object has no dma-buf to find its handle by), result ignored: the BO stays at handle ${handle}, not ${idr}`,
        });
      // L344
      b.restored_offset = gemOf(w, gem).mmap_offset;
      // L346-351: export of the *saved* handle, result ignored; prime_fd is 0 if it fails.
      let primeFd = 0;
      const target = handleLookup(w, file.id, idr);
      if (target === undefined)
        defects.push({
          where: `${SRC}:346 amdgpu_criu_restore`,
          what: `drm_gem_prime_handle_to_fd of handle ${idr} → -ENOENT (no object there), result ignored: dmabuf_fd = 0`,
        });
      else {
        try {
          let dmabuf = primeByHandle(w, file.id, idr);
          if (dmabuf === undefined) {
            dmabuf = objectDmabuf(w, target, DRM_PRIME_FLAGS.RDWR);
            primeAdd(w, file.id, dmabuf, idr);
          }
          primeFd = installFd(w, task, dmabuf);
          if (target !== gem)
            defects.push({
              where: `${SRC}:346 amdgpu_criu_restore`,
              what: `handle ${idr} is another object (restored earlier at the lowest free handle): dmabuf_fd ${primeFd} exports the wrong BO`,
            });
        } catch (e) {
          if (!(e instanceof KernelReturn)) throw e;
          defects.push({
            where: `${SRC}:346 amdgpu_criu_restore`,
            what: `drm_gem_prime_handle_to_fd of handle ${idr} → ${e.ret}, result ignored: dmabuf_fd = 0`,
          });
        }
      }
      b.dmabuf_fd = primeFd;
    } else {
      // L353-358: `struct drm_gem_object *obj; … bo = gem_to_amdgpu_bo(obj); if (bo->kfd_bo)`.
      a.bos = null;
      return oops(
        w,
        call,
        `${SRC}:358 amdgpu_criu_restore`,
        `bo->kfd_bo reads through bo = gem_to_amdgpu_bo(obj) (line 356), and obj (line 353) is never set: NULL pointer dereference (handle ${idr}, IS_IMPORT)`,
      );
    }
    // L383-406: map every vm priv of this handle into the VM of the file.
    for (const m of priv.vms) {
      if (m.idr_handle !== idr || restored === null) continue;
      const bv = boVaFind(w, file.id, restored) ?? boVaGet(w, file.id, restored);
      const saddr = m.start * PAGE;
      const size = (m.last - m.start + 1n) * PAGE;
      // L396: amdgpu_vm_bo_map(...), result ignored.
      let r = verifyParameters(gemOf(w, restored).size, saddr, m.offset, size);
      if (r === 0) r = vmMap(w, bv, saddr, m.offset, size, Number(m.flags & 0xffffffffn), null);
      if (r !== 0)
        defects.push({
          where: `${SRC}:396 amdgpu_criu_restore`,
          what: `amdgpu_vm_bo_map of pages ${m.start}-${m.last} → ${r}, result ignored: the mapping is missing and RESTORE returns 0`,
        });
      // L401, L403: amdgpu_vm_bo_update / amdgpu_vm_update_pdes (results overwritten).
      vmUpdate(w, bv);
    }
  }
  // L410: copy_to_user of the buckets (restored_offset, dmabuf_fd); its result is the return value.
  a.bos = buckets;
  return 0;
}

// amdgpu_criu_op_ioctl (amdgpu_criu.c:434-462, proposal v3), spec §8.1
export const amdgpuCriuOp = registerDrm<CriuV3Args>({
  name: 'DRM_IOCTL_AMDGPU_CRIU_OP',
  models:
    'amdgpu_criu_op_ioctl (amdgpu_criu.c of "[PATCH v3 2/3] drm/amdgpu: Adding amdgpu CRIU ioctl", never merged), spec §8.1',
  checks: [
    'not under amdgpu-criu "criu-ioctl-v3" (no such ioctl) → -EINVAL',
    'PROCESS_INFO (:87): num_bos = handles, num_objs = their mappings in this VM, priv_data_size = 4 × num_bos + 40 × num_objs, pid = the VM’s task → 0 (nothing is paused)',
    'CHECKPOINT (:132): num_bos ≠ the number of handles → -EINVAL; more mappings than num_objs → oops (:205, write past the vm_privs buffer); each BO exported to an fd of the caller, a failed export ignored (:193, the previous fd kept); NULL bos or priv_data → -EFAULT (:232) after the exports',
    'UNPAUSE (:263), RESUME (:428) → 0',
    'RESTORE (:269): bos or priv_data shorter than num_bos / num_objs say → -EINVAL; per bucket: SKIP → skipped; not IS_IMPORT → a new BO at the lowest free handle (the saved handle is not restored, :342), its creation reference leaked (:341), the saved handle exported (:346, maybe another BO or none → dmabuf_fd 0); IS_IMPORT → oops (:358, uninitialised obj); each vm priv mapped, a failed map ignored (:396) → 0',
    'RESTORE_RETRY (enum value 4) has no case in the switch → -EINVAL (:456)',
    'any other op → -EINVAL',
  ],
  args: {
    bos: nullable(arrayOf(bucketSchema)),
    priv_data: nullable(bytes),
    priv_data_size: nullable(u64),
    num_bos: nullable(u32),
    num_objs: nullable(u32),
    pid: u32,
    op: enumOf(OP, 'AMDGPU_CRIU_OP_'),
  },
  out: ['bos', 'priv_data', 'priv_data_size', 'num_bos', 'num_objs', 'pid', 'oops', 'defects'],
  run(k, a) {
    const defects: Defect[] = [];
    let r: number;
    switch (a.op) {
      case OP.PROCESS_INFO:
        a.bos = null;
        a.priv_data = null;
        r = processInfo(k, a);
        break;
      case OP.CHECKPOINT:
        r = checkpoint(k, a, defects);
        break;
      case OP.UNPAUSE:
      case OP.RESUME:
        r = 0;
        break;
      case OP.RESTORE:
        r = restore(k, a, defects);
        break;
      default:
        r = -ERRNO.EINVAL;
    }
    const o = k.w.oopses?.[k.w.oopses.length - 1];
    if (r === OOPS_RET && o !== undefined) a.oops = `${o.where}: ${o.what}`;
    if (defects.length) a.defects = defects;
    return r;
  },
});
