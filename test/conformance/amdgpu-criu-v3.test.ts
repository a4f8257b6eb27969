/**
 * The March 2025 proposal under `amdgpu-criu: "criu-ioctl-v3"` (spec §8.1): DRM_IOCTL_AMDGPU_CRIU_OP
 * as posted (amdgpu_criu.c of "[PATCH v3 2/3] drm/amdgpu: Adding amdgpu CRIU ioctl"), its
 * checks and its defects. A defect that crashes the kernel is a result (ret OOPS_RET, out.oops,
 * world.oopses), never an exception of gpucr.
 */
import { describe, expect, it } from 'vitest';
import { encodeCriuV3Priv } from '../../src/ioctls/amdgpu/criu-v3.js';
import { amdgpuInvariants, OOPS_RET } from '../../src/ioctls/amdgpu/oops.js';
import { AMDGPU_CRIU_PROPOSAL_STRUCTS } from '../../src/uapi/amdgpu.js';
import { APP, CRIU, Drm, E, PAGE, RA, RA2 } from './amdgpu-helpers.js';

const V3 = { 'amdgpu-criu': 'criu-ioctl-v3' } as const;
const BO_PRIV = AMDGPU_CRIU_PROPOSAL_STRUCTS.drm_amdgpu_criu_bo_priv_data!.size;
const VM_PRIV = AMDGPU_CRIU_PROPOSAL_STRUCTS.drm_amdgpu_criu_vm_mapping_priv_data!.size;
const DRAINED = `${APP}:${RA}`;

function criu(h: Drm, raw: object, fd: number | string = DRAINED, pid = CRIU) {
  return h.call(pid, 'DRM_IOCTL_AMDGPU_CRIU_OP', fd, raw);
}

/** RESTORE into the application's second file of GPU A (fresh). */
function restore(
  h: Drm,
  bos: object[],
  privs: { idr_handle: number }[],
  vms: Parameters<typeof encodeCriuV3Priv>[1] = [],
) {
  return criu(
    h,
    {
      op: 'RESTORE',
      bos,
      priv_data: Buffer.from(encodeCriuV3Priv(privs, vms)).toString('hex'),
      num_objs: vms.length,
    },
    RA2,
    APP,
  );
}

describe('spec §8.1: the proposal’s kernel', () => {
  it('spec §8.1: it has none of the 6.18 queries: GEM_LIST_HANDLES, GET_MAPPING_INFO, GEM_CHANGE_HANDLE → -EINVAL', () => {
    const h = new Drm({ variants: V3 });
    const b = h.create();
    expect(h.drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 8 }).ret).toBe(E.EINVAL);
    expect(h.mappings(b).ret).toBe(E.EINVAL);
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: b, new_handle: 9 }).ret).toBe(E.EINVAL);
  });

  it('spec §8.1: UNPAUSE and RESUME do nothing (0); RESTORE_RETRY has no case in amdgpu_criu_op_ioctl → -EINVAL; op 6 → -EINVAL', () => {
    const h = new Drm({ variants: V3 });
    expect(criu(h, { op: 'UNPAUSE' }).ret).toBe(0);
    expect(criu(h, { op: 'RESUME' }).ret).toBe(0);
    expect(criu(h, { op: 'RESTORE_RETRY' }).ret).toBe(E.EINVAL);
    expect(criu(h, { op: 6 }).ret).toBe(E.EINVAL);
  });
});

describe('spec §8.1: PROCESS_INFO and CHECKPOINT', () => {
  it('spec §8.1: PROCESS_INFO counts handles and their mappings in this VM; priv_data_size from the two priv structs', () => {
    const h = new Drm({ variants: V3 });
    const a = h.create({ bo_size: 2 * PAGE });
    h.create();
    h.must(h.va(a, 0x200000000));
    h.must(h.va(a, 0x200100000, PAGE, { offset_in_bo: PAGE }));
    const r = h.must(criu(h, { op: 'PROCESS_INFO' }));
    expect(r.out).toMatchObject({ num_bos: 2, num_objs: 2, pid: APP });
    expect(r.out.priv_data_size).toBe(BigInt(2 * BO_PRIV + 2 * VM_PRIV));
  });

  it('spec §8.1: CHECKPOINT with num_bos ≠ the handle count → -EINVAL', () => {
    const h = new Drm({ variants: V3 });
    h.create();
    expect(criu(h, { op: 'CHECKPOINT', bos: [], priv_data: '', num_bos: 2, num_objs: 0 }).ret).toBe(E.EINVAL);
  });

  it('spec §8.1: CHECKPOINT into NULL buffers → -EFAULT, after every BO was exported to an fd of the caller', () => {
    const h = new Drm({ variants: V3 });
    h.create();
    const before = Object.keys(h.w.tasks[CRIU]?.fds ?? {}).length;
    expect(criu(h, { op: 'CHECKPOINT', num_bos: 1, num_objs: 0 }).ret).toBe(E.EFAULT);
    expect(Object.keys(h.w.tasks[CRIU]!.fds).length).toBe(Math.max(before, 3) + 1);
  });

  it('spec §8.1: a bucket per handle with size, mmap offset, bo->flags, domains and a dma-buf fd of the caller', () => {
    const h = new Drm({ variants: V3 });
    const a = h.create({ bo_size: 2 * PAGE, domains: ['VRAM'], domain_flags: ['CPU_GTT_USWC'] });
    h.must(h.va(a, 0x200000000));
    const off = h.must(h.drm('AMDGPU_GEM_MMAP', { handle: a })).out.addr_ptr;
    const r = h.must(criu(h, { op: 'CHECKPOINT', bos: [], priv_data: '', num_bos: 1, num_objs: 1 }));
    const [b] = r.out.bos as Record<string, unknown>[];
    expect(b).toMatchObject({
      size: 8192n,
      offset: off,
      // CPU_GTT_USWC as asked, VRAM_CLEARED from GEM_CREATE ("always clear VRAM").
      alloc_flags: (1 << 2) | (1 << 3),
      preferred_domains: 4,
      addr: 0x200000000n,
    });
    expect(h.w.files[h.w.tasks[CRIU]!.fds[b!.dmabuf_fd as number]!]?.kind).toBe('dmabuf');
  });

  it('spec §8.1 (amdgpu_criu.c:193): a BO whose export fails gets the previous BO’s dmabuf_fd (fd is reused, the error ignored)', () => {
    const h = new Drm({ variants: V3 });
    h.create();
    h.must(h.drm('AMDGPU_GEM_USERPTR', { addr: 0x7ffd00000000, size: PAGE, flags: ['REGISTER'] }));
    const r = h.must(criu(h, { op: 'CHECKPOINT', bos: [], priv_data: '', num_bos: 2, num_objs: 0 }));
    const [first, second] = r.out.bos as { dmabuf_fd: number }[];
    expect(second!.dmabuf_fd).toBe(first!.dmabuf_fd);
    expect((r.out.defects as { where: string }[])[0]!.where).toBe('amdgpu_criu.c:193 amdgpu_criu_checkpoint');
  });

  it('spec §8.1 (amdgpu_criu.c:215): more mappings than num_objs (a GEM_VA after PROCESS_INFO: nothing is paused) → a kernel oops, as a result', () => {
    const h = new Drm({ variants: V3 });
    const a = h.create({ bo_size: 2 * PAGE });
    h.must(h.va(a, 0x200000000));
    const info = h.must(criu(h, { op: 'PROCESS_INFO' }));
    h.must(h.va(a, 0x200100000, PAGE, { offset_in_bo: PAGE }));
    const r = criu(h, {
      op: 'CHECKPOINT',
      bos: [],
      priv_data: '',
      num_bos: info.out.num_bos,
      num_objs: info.out.num_objs,
    });
    expect(r.ret).toBe(OOPS_RET);
    expect(String(r.out.oops)).toMatch(/^amdgpu_criu\.c:215 amdgpu_criu_checkpoint: /);
    expect(amdgpuInvariants(h.w)).toHaveLength(1);
  });
});

describe('spec §8.1: RESTORE', () => {
  it('spec §8.1: buckets or priv_data shorter than num_bos / num_objs say → -EINVAL', () => {
    const h = new Drm({ variants: V3 });
    expect(criu(h, { op: 'RESTORE', bos: [], num_bos: 1, priv_data: '00000000' }, RA2, APP).ret).toBe(E.EINVAL);
    expect(criu(h, { op: 'RESTORE', bos: [{ size: PAGE }], priv_data: '0000' }, RA2, APP).ret).toBe(E.EINVAL);
    expect(criu(h, { op: 'RESTORE', bos: [{ size: PAGE }], priv_data: '01000000', num_objs: 1 }, RA2, APP).ret).toBe(
      E.EINVAL,
    );
  });

  it('spec §8.1: a SKIP bucket is not restored', () => {
    const h = new Drm({ variants: V3 });
    expect(restore(h, [{ size: PAGE, preferred_domains: ['GTT'], flags: ['SKIP'] }], [{ idr_handle: 1 }]).ret).toBe(0);
    expect(h.gem(1, RA2)).toBeUndefined();
  });

  it('spec §8.1 (amdgpu_criu.c:341-351): a BO is created at the lowest free handle, not its saved one, and its dmabuf_fd is 0', () => {
    const h = new Drm({ variants: V3 });
    const r = restore(h, [{ size: PAGE, preferred_domains: ['GTT'] }], [{ idr_handle: 5 }]);
    expect(r.ret).toBe(0);
    expect(h.gem(1, RA2)).toBeDefined();
    expect(h.gem(5, RA2)).toBeUndefined();
    expect((r.out.bos as { dmabuf_fd: number }[])[0]!.dmabuf_fd).toBe(0);
    expect((r.out.defects as { where: string }[]).map((d) => d.where)).toEqual([
      'amdgpu_criu.c:341 amdgpu_criu_restore',
      'amdgpu_criu.c:342 amdgpu_criu_restore',
      'amdgpu_criu.c:346 amdgpu_criu_restore',
    ]);
  });

  it('spec §8.1 (amdgpu_criu.c:341): the created BO is never freed: closing its handle leaves a leaked object', () => {
    const h = new Drm({ variants: V3 });
    restore(h, [{ size: PAGE, preferred_domains: ['GTT'] }], [{ idr_handle: 3 }]);
    const gem = h.gem(1, RA2)!;
    h.must(h.drm('GEM_CLOSE', { handle: 1 }, RA2));
    expect(h.w.gems[gem]).toBeDefined();
    expect(amdgpuInvariants(h.w).some((m) => m.startsWith('leak:'))).toBe(true);
  });

  it('spec §8.1 (amdgpu_criu.c:346): the saved handle of a later BO names an earlier restored BO: its dma-buf fd exports the wrong BO', () => {
    const h = new Drm({ variants: V3 });
    const r = restore(
      h,
      [
        { size: PAGE, preferred_domains: ['GTT'] },
        { size: 2 * PAGE, preferred_domains: ['GTT'] },
      ],
      [{ idr_handle: 2 }, { idr_handle: 1 }],
    );
    expect(r.ret).toBe(0);
    const [, second] = r.out.bos as { dmabuf_fd: number }[];
    const dmabuf = h.w.files[h.w.tasks[APP]!.fds[second!.dmabuf_fd]!];
    expect(dmabuf?.kind === 'dmabuf' && dmabuf.gem).toBe(h.gem(1, RA2));
    expect(h.w.gems[h.gem(1, RA2)!]!.size).toBe(4096n);
  });

  it('spec §8.1 (amdgpu_criu.c:396): a mapping that conflicts is silently missing; RESTORE returns 0', () => {
    const h = new Drm({ variants: V3 });
    h.must(h.va(h.create({}, RA2), 0x200000000, PAGE, {}, RA2));
    const r = restore(
      h,
      [{ size: PAGE, preferred_domains: ['GTT'] }],
      [{ idr_handle: 2 }],
      [{ start: 0x200000n, last: 0x200000n, offset: 0n, flags: 2n, idr_handle: 2 }],
    );
    expect(r.ret).toBe(0);
    // Two BOs in the file, one mapping in its VM: the one that was there.
    expect(h.must(criu(h, { op: 'PROCESS_INFO' }, RA2, APP)).out).toMatchObject({ num_bos: 2, num_objs: 1 });
    expect(
      (r.out.defects as { where: string }[]).some((d) => d.where === 'amdgpu_criu.c:396 amdgpu_criu_restore'),
    ).toBe(true);
  });

  it('spec §8.1 (amdgpu_criu.c:358): an IS_IMPORT bucket dereferences an object pointer that is never set → a kernel oops, as a result', () => {
    const h = new Drm({ variants: V3 });
    const r = restore(
      h,
      [{ size: PAGE, preferred_domains: ['GTT'], flags: ['IS_IMPORT'], dmabuf_fd: 0 }],
      [{ idr_handle: 1 }],
    );
    expect(r.ret).toBe(OOPS_RET);
    expect(String(r.out.oops)).toMatch(/^amdgpu_criu\.c:358 amdgpu_criu_restore: /);
    expect(h.w.oopses).toHaveLength(1);
    expect(amdgpuInvariants(h.w)[0]).toContain('kernel oops');
  });
});
