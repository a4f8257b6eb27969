/**
 * Render-node GEM conformance (spec §1, §7.2, §8.2): every errno of GEM_CREATE, GEM_USERPTR,
 * GEM_MMAP, GEM_OP, GEM_CLOSE, PRIME_HANDLE_TO_FD, PRIME_FD_TO_HANDLE, GEM_CHANGE_HANDLE,
 * GEM_LIST_HANDLES and the DRM dispatch, and the sharing rules between files and with KFD.
 * Expected values are the spec's (and the kernel's, where the spec names the function).
 */
import { describe, expect, it } from 'vitest';
import { APP, Drm, E, GPU_A, GPU_B, KFD, PAGE, RA, RA2, RB } from './amdgpu-helpers.js';

const INT_MAX = 0x7fffffff;

describe('spec §8.2: the DRM dispatch of a render-node ioctl', () => {
  it('spec §8.2: a DRM ioctl on an fd that is not open → -EBADF', () => {
    expect(new Drm().drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['GTT'] }, 42).ret).toBe(E.EBADF);
  });

  it('spec §8.2: a DRM ioctl on /dev/kfd, a tty or a dma-buf → -ENOTTY', () => {
    const h = new Drm();
    const fd = h.exportFd(h.create());
    for (const bad of [KFD, 0, fd]) expect(h.drm('GEM_CLOSE', { handle: 1 }, bad).ret).toBe(E.ENOTTY);
  });

  it('spec §8.2: DRM_IOCTL_AMDGPU_CRIU_OP does not exist in the upstream kernel → -EINVAL', () => {
    expect(new Drm().drm('AMDGPU_CRIU_OP', { op: 'PROCESS_INFO' }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2, §9.8: before 6.18 (kernel "6.17") GEM_LIST_HANDLES, GET_MAPPING_INFO and GEM_CHANGE_HANDLE → -EINVAL', () => {
    const h = new Drm({ variants: { kernel: '6.17' } });
    const b = h.create();
    expect(h.drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 8 }).ret).toBe(E.EINVAL);
    expect(h.mappings(b).ret).toBe(E.EINVAL);
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: b, new_handle: 7 }).ret).toBe(E.EINVAL);
  });
});

describe('spec §8.2: GEM_CREATE', () => {
  it('spec §8.2: handles of a file start at 1 and take the lowest free one', () => {
    const h = new Drm();
    expect([h.create(), h.create(), h.create()]).toEqual([1, 2, 3]);
    h.must(h.drm('GEM_CLOSE', { handle: 2 }));
    expect(h.create()).toBe(2);
    // Each render-node file has its own handle namespace.
    expect(h.create({}, RA2)).toBe(1);
  });

  it('spec §8.2: domain_flags outside the settable mask → -EINVAL (CP_MQD_GFX9, PREEMPTIBLE, VRAM_CONTIGUOUS are kernel-only)', () => {
    const h = new Drm();
    for (const f of ['CP_MQD_GFX9', 'PREEMPTIBLE', 'VRAM_CONTIGUOUS'])
      expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['GTT'], domain_flags: [f] }).ret).toBe(E.EINVAL);
    // The flags 0317e0e224bc made settable are accepted.
    for (const f of ['VRAM_WIPE_ON_RELEASE', 'COHERENT', 'UNCACHED', 'EXT_COHERENT'])
      expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['VRAM'], domain_flags: [f] }).ret).toBe(0);
  });

  it('spec §8.2 (0317e0e224bc, in 6.18): before the render-node CRIU series (kernel "6.17", the proposal’s kernel) VRAM_WIPE_ON_RELEASE, COHERENT, UNCACHED and EXT_COHERENT → -EINVAL, and the older settable flags are accepted', () => {
    for (const variants of [{ kernel: '6.17' }, { 'amdgpu-criu': 'criu-ioctl-v3' }] as const) {
      const h = new Drm({ variants });
      for (const f of ['VRAM_WIPE_ON_RELEASE', 'COHERENT', 'UNCACHED', 'EXT_COHERENT'])
        expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['VRAM'], domain_flags: [f] }).ret).toBe(E.EINVAL);
      const older = ['CPU_ACCESS_REQUIRED', 'CPU_GTT_USWC', 'VRAM_CLEARED', 'VM_ALWAYS_VALID', 'EXPLICIT_SYNC'];
      const b = h.create({ domains: ['VRAM'], domain_flags: older });
      expect(h.drm('AMDGPU_GEM_OP', { handle: b, op: 'GET_GEM_CREATE_INFO' }).out.create_info).toMatchObject({
        domain_flags: BigInt((1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 7)),
      });
    }
  });

  it('spec §8.2: an unknown domain bit, DOORBELL or MMIO_REMAP → -EINVAL', () => {
    const h = new Drm();
    expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: 0x100 }).ret).toBe(E.EINVAL);
    expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['DOORBELL'] }).ret).toBe(E.EINVAL);
    expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['MMIO_REMAP'] }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: ENCRYPTED without TMZ → -EINVAL; a GDS/GWS/OA object cannot be VM_ALWAYS_VALID → -EINVAL', () => {
    const h = new Drm();
    expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['VRAM'], domain_flags: ['ENCRYPTED'] }).ret).toBe(
      E.EINVAL,
    );
    expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['GDS'], domain_flags: ['VM_ALWAYS_VALID'] }).ret).toBe(
      E.EINVAL,
    );
  });

  it('spec §8.2: GET_GEM_CREATE_INFO returns what GEM_CREATE asked for (size page aligned), domain_flags = bo->flags: the flags asked and VRAM_CLEARED, which amdgpu_gem_create_ioctl adds to every object ("always clear VRAM")', () => {
    const h = new Drm();
    const b = h.create({ bo_size: 5000, alignment: 65536, domains: ['VRAM', 'GTT'], domain_flags: ['COHERENT'] });
    const r = h.must(h.drm('AMDGPU_GEM_OP', { handle: b, op: 'GET_GEM_CREATE_INFO' }));
    const asked = 1n << 13n;
    const vramCleared = 1n << 3n;
    expect(r.out.create_info).toEqual({
      bo_size: 8192n,
      alignment: 65536n,
      domains: 6n,
      domain_flags: asked | vramCleared,
    });
    // Whatever the domain: a GTT object has it too.
    const g = h.create({ domains: ['GTT'] });
    const info = h.must(h.drm('AMDGPU_GEM_OP', { handle: g, op: 'GET_GEM_CREATE_INFO' })).out.create_info;
    expect((info as { domain_flags: bigint }).domain_flags).toBe(vramCleared);
  });
});

describe('spec §8.2: GEM_USERPTR', () => {
  it('spec §8.2: addr or size not page aligned → -EINVAL; unknown flags → -EINVAL', () => {
    const h = new Drm();
    expect(h.drm('AMDGPU_GEM_USERPTR', { addr: 0x7ffd00000100, size: PAGE, flags: ['READONLY'] }).ret).toBe(E.EINVAL);
    expect(h.drm('AMDGPU_GEM_USERPTR', { addr: 0x7ffd00000000, size: 100, flags: ['READONLY'] }).ret).toBe(E.EINVAL);
    expect(h.drm('AMDGPU_GEM_USERPTR', { addr: 0x7ffd00000000, size: PAGE, flags: 0x10 | 1 }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: neither READONLY nor REGISTER (a writable userptr needs a notifier) → -EACCES', () => {
    const h = new Drm();
    expect(h.drm('AMDGPU_GEM_USERPTR', { addr: 0x7ffd00000000, size: PAGE, flags: ['VALIDATE'] }).ret).toBe(E.EACCES);
  });

  it('spec §8.2: a userptr object cannot be mmapped (-EPERM), exported (-EPERM) or re-placed (-EPERM); its preferred domain is GTT', () => {
    const h = new Drm();
    const u = h.must(h.drm('AMDGPU_GEM_USERPTR', { addr: 0x7ffd00000000, size: PAGE, flags: ['REGISTER'] })).out
      .handle as number;
    expect(h.drm('AMDGPU_GEM_MMAP', { handle: u }).ret).toBe(E.EPERM);
    expect(h.drm('PRIME_HANDLE_TO_FD', { handle: u, flags: 0 }).ret).toBe(E.EPERM);
    expect(h.drm('AMDGPU_GEM_OP', { handle: u, op: 'SET_PLACEMENT', value: 2 }).ret).toBe(E.EPERM);
    const info = h.must(h.drm('AMDGPU_GEM_OP', { handle: u, op: 'GET_GEM_CREATE_INFO' })).out.create_info as {
      domains: bigint;
    };
    expect(info.domains).toBe(2n);
  });
});

describe('spec §8.2, §9.8: GEM_MMAP', () => {
  it('spec §8.2: no object at the handle → -ENOENT; NO_CPU_ACCESS → -EPERM', () => {
    const h = new Drm();
    expect(h.drm('AMDGPU_GEM_MMAP', { handle: 9 }).ret).toBe(E.ENOENT);
    const v = h.create({ domains: ['VRAM'], domain_flags: ['NO_CPU_ACCESS'] });
    expect(h.drm('AMDGPU_GEM_MMAP', { handle: v }).ret).toBe(E.EPERM);
  });

  it('spec §9.8: every object has its own fake offset, the same through every handle of it', () => {
    const h = new Drm();
    const a = h.create();
    const b = h.create();
    const off = (handle: number, fd = RA) => h.must(h.drm('AMDGPU_GEM_MMAP', { handle }, fd)).out.addr_ptr as bigint;
    expect(off(a)).not.toBe(off(b));
    const imported = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd: h.exportFd(a) }, RA2)).out.handle as number;
    expect(off(imported, RA2)).toBe(off(a));
  });
});

describe('spec §8.2: GEM_OP', () => {
  it('spec §8.2: padding ≠ 0 → -EINVAL; no object → -ENOENT; an unknown op → -EINVAL', () => {
    const h = new Drm();
    const b = h.create();
    expect(h.drm('AMDGPU_GEM_OP', { handle: b, op: 'GET_MAPPING_INFO', num_entries: 8, padding: 1 }).ret).toBe(
      E.EINVAL,
    );
    expect(h.drm('AMDGPU_GEM_OP', { handle: 77, op: 'GET_GEM_CREATE_INFO' }).ret).toBe(E.ENOENT);
    expect(h.drm('AMDGPU_GEM_OP', { handle: b, op: 7 }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2 (4d82724f7f2b, in 6.18): the padding check comes with the field; before it (kernel "6.17", the proposal’s kernel) a non-zero padding is ignored', () => {
    const query = (h: Drm, b: number) =>
      h.drm('AMDGPU_GEM_OP', { handle: b, op: 'GET_GEM_CREATE_INFO', padding: 0xdead }).ret;
    const recent = new Drm();
    expect(query(recent, recent.create())).toBe(E.EINVAL);
    for (const variants of [{ kernel: '6.17' }, { 'amdgpu-criu': 'criu-ioctl-v3' }] as const) {
      const h = new Drm({ variants });
      expect(query(h, h.create())).toBe(0);
    }
  });

  it('spec §8.2: SET_PLACEMENT of an import object with VRAM → -EINVAL; otherwise preferred domains = value & (VRAM|GTT|CPU)', () => {
    const h = new Drm();
    const a = h.create({ domains: ['VRAM'] });
    const imp = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd: h.exportFd(a) }, RB)).out.handle as number;
    expect(h.drm('AMDGPU_GEM_OP', { handle: imp, op: 'SET_PLACEMENT', value: 4 }, RB).ret).toBe(E.EINVAL);
    h.must(h.drm('AMDGPU_GEM_OP', { handle: a, op: 'SET_PLACEMENT', value: 0xff }));
    const info = h.must(h.drm('AMDGPU_GEM_OP', { handle: a, op: 'GET_GEM_CREATE_INFO' })).out.create_info as {
      domains: bigint;
    };
    expect(info.domains).toBe(7n);
  });

  it('spec §8.2 (amdgpu_gem_op_ioctl, amdgpu_xgmi_same_hive): SET_PLACEMENT of an object a VM of another GPU of its XGMI hive holds → -EINVAL', () => {
    for (const hive of [true, false]) {
      const h = new Drm(hive ? { gpuA: { hive_id: '0x5a5a' }, gpuB: { hive_id: '0x5a5a' } } : {});
      h.must(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: RB, gpu_id: GPU_B }, KFD));
      const k = h.alloc(APP, GPU_A, ['VRAM', 'WRITABLE'], PAGE, '0x7f0000000000');
      const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: k, flags: 0 }, KFD)).out.dmabuf_fd;
      const r = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd })).out.handle as number; // the same object
      const place = () => h.drm('AMDGPU_GEM_OP', { handle: r, op: 'SET_PLACEMENT', value: 4 }).ret;
      h.must(h.map(APP, k, [GPU_A]));
      expect(place(), 'mapped by its own GPU only').toBe(0);
      h.must(h.map(APP, k, [GPU_B]));
      expect(place(), hive ? 'mapped by the other GPU of its hive' : 'mapped by a GPU of no hive').toBe(
        hive ? E.EINVAL : 0,
      );
      // UNMAP keeps the attachment (kfd_mem_detach comes at FREE): the VM still holds a bo_va
      h.must(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: k, device_ids: [GPU_B] }));
      expect(place(), 'unmapped, still attached').toBe(hive ? E.EINVAL : 0);
    }
  });

  it('spec §8.2: GET_MAPPING_INFO (2026 fix): num_entries whose array would exceed INT_MAX bytes → -EINVAL', () => {
    const h = new Drm();
    expect(h.mappings(h.create(), 0x8000000).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: GET_MAPPING_INFO returns the count always, the entries only when they fit', () => {
    const h = new Drm();
    const b = h.create({ bo_size: 4 * PAGE });
    for (let i = 0; i < 3; i++) h.must(h.va(b, 0x200000000 + i * 0x100000, PAGE, { offset_in_bo: i * PAGE }));
    const small = h.must(h.mappings(b, 2));
    expect(small.out.num_entries).toBe(3);
    expect(small.out.vm_entries).toBeUndefined();
    const none = h.must(h.mappings(h.create()));
    expect(none.out).toEqual({ num_entries: 0 });
    const all = h.must(h.mappings(b, 8));
    expect(all.out.num_entries).toBe(3);
    expect((all.out.vm_entries as unknown[]).length).toBe(3);
  });

  it('spec §8.2, §12 q7: GET_MAPPING_INFO: addr and size in bytes, offset into the BO, the mapping flags as the GEM_VA call gave them; valids before invalids', () => {
    const h = new Drm();
    const b = h.create({ bo_size: 4 * PAGE });
    h.must(h.va(b, 0x300000000, 2 * PAGE, { offset_in_bo: PAGE, flags: ['PAGE_READABLE', 'PAGE_WRITEABLE'] }));
    h.must(h.va(b, 0x400000000, PAGE, { flags: ['PAGE_READABLE', 'DELAY_UPDATE'] }));
    const e = h.must(h.mappings(b)).out.vm_entries as { addr: bigint; size: bigint; offset: bigint; flags: bigint }[];
    // The first was written to the page tables (valid); the second is still pending (invalids).
    // The flags are the call's uapi flags as given (§12 q7; "rework how PTE flags are generated"
    // keeps args->flags in the mapping), so the delayed one reports DELAY_UPDATE (bit 0) too.
    expect(e).toEqual([
      { addr: 0x300000000n, size: 2n * 4096n, offset: 4096n, flags: 6n },
      { addr: 0x400000000n, size: 4096n, offset: 0n, flags: 3n },
    ]);
  });
});

describe('spec §8.2: GEM_CLOSE', () => {
  it('spec §8.2: an unknown handle → -EINVAL, a handle closed twice → -EINVAL', () => {
    const h = new Drm();
    expect(h.drm('GEM_CLOSE', { handle: 5 }).ret).toBe(E.EINVAL);
    const b = h.create();
    h.must(h.drm('GEM_CLOSE', { handle: b }));
    expect(h.drm('GEM_CLOSE', { handle: b }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: closing the last handle frees an object nothing else refers to; its mappings go with it', () => {
    const h = new Drm();
    const b = h.create();
    const gem = h.gem(b)!;
    h.must(h.va(b, 0x200000000));
    h.must(h.drm('GEM_CLOSE', { handle: b }));
    expect(h.w.gems[gem]).toBeUndefined();
    // The range is free again for another object.
    expect(h.va(h.create(), 0x200000000).ret).toBe(0);
  });
});

describe('spec §8.2: PRIME_HANDLE_TO_FD / PRIME_FD_TO_HANDLE', () => {
  it('spec §8.2: flags other than DRM_CLOEXEC | DRM_RDWR → -EINVAL; no object → -ENOENT', () => {
    const h = new Drm();
    const b = h.create();
    expect(h.drm('PRIME_HANDLE_TO_FD', { handle: b, flags: 1 }).ret).toBe(E.EINVAL);
    expect(h.drm('PRIME_HANDLE_TO_FD', { handle: 9, flags: 0 }).ret).toBe(E.ENOENT);
    expect(h.drm('PRIME_HANDLE_TO_FD', { handle: b, flags: 0o2000002 }).ret).toBe(0);
  });

  it('spec §8.2: a VM_ALWAYS_VALID object cannot be exported → -EPERM', () => {
    const h = new Drm();
    const b = h.create({ domain_flags: ['VM_ALWAYS_VALID'] });
    expect(h.drm('PRIME_HANDLE_TO_FD', { handle: b, flags: 0 }).ret).toBe(E.EPERM);
  });

  it('spec §8.2: one dma-buf per object: two exports are two fds of the same file', () => {
    const h = new Drm();
    const b = h.create();
    const f1 = h.exportFd(b);
    const f2 = h.exportFd(b);
    expect(f2).not.toBe(f1);
    const fds = h.w.tasks[APP]!.fds;
    expect(fds[f2]).toBe(fds[f1]);
  });

  it('spec §8.2: fd not open → -EBADF; an fd that is not a dma-buf → -EINVAL', () => {
    const h = new Drm();
    expect(h.drm('PRIME_FD_TO_HANDLE', { fd: 77 }).ret).toBe(E.EBADF);
    expect(h.drm('PRIME_FD_TO_HANDLE', { fd: KFD }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: importing a dma-buf into a file that already has the object returns the existing handle', () => {
    const h = new Drm();
    h.create();
    const b = h.create();
    expect(h.must(h.drm('PRIME_FD_TO_HANDLE', { fd: h.exportFd(b) })).out.handle).toBe(b);
  });

  it('spec §8.2: another file of the same GPU gets a new handle of the same object; another GPU gets an import object (IS_IMPORT)', () => {
    const h = new Drm();
    const b = h.create({ bo_size: 2 * PAGE });
    const fd = h.exportFd(b);
    const same = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd }, RA2)).out.handle as number;
    expect(h.gem(same, RA2)).toBe(h.gem(b));
    const other = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd }, RB)).out.handle as number;
    expect(h.gem(other, RB)).not.toBe(h.gem(b));
    const list = h.must(h.drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 8 }, RB)).out.entries as {
      flags: number;
      size: bigint;
    }[];
    expect(list).toMatchObject([{ flags: 1, size: 8192n }]);
    const own = h.must(h.drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 8 }, RA2)).out.entries as { flags: number }[];
    expect(own[0]!.flags).toBe(0);
    // Re-exporting the import hands out the original dma-buf.
    const again = h.exportFd(other, RB);
    expect(h.w.tasks[APP]!.fds[again]).toBe(h.w.tasks[APP]!.fds[fd]);
  });

  it('spec §7.2, §8.2: a KFD BO exported with EXPORT_DMABUF imports into the render node as the same object, and back', () => {
    const h = new Drm();
    const k = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], 2 * PAGE, '0x7f0000000000');
    const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: k, flags: 0 }, KFD)).out.dmabuf_fd;
    const r = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd })).out.handle as number;
    const kfdGem = Object.values(h.w.objects).find(
      (o) => o.kind === 'kfd.bo' && (o.context as { va: bigint }).va === 0x7f0000000000n,
    )!.context as { gem: string };
    expect(h.gem(r)).toBe(kfdGem.gem);
    // A render-node BO exported by PRIME imports into KFD (IMPORT_DMABUF) with its size.
    const b = h.create({ bo_size: 3 * PAGE });
    const fd2 = h.exportFd(b);
    const imp = h.must(
      h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_A, dmabuf_fd: fd2, va_addr: '0x7f0000400000' }, KFD),
    );
    const info = h.must(h.ioctl(APP, 'GET_DMABUF_INFO', { dmabuf_fd: fd2 }, KFD));
    expect(info.out.size).toBe(3n * 4096n);
    expect(imp.out.handle).toBeDefined();
  });
});

describe('spec §8.2: GEM_CHANGE_HANDLE', () => {
  it('spec §8.2: new_handle > INT_MAX → -EINVAL; handle == new_handle → 0', () => {
    const h = new Drm();
    const b = h.create();
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: b, new_handle: INT_MAX + 1 }).ret).toBe(E.EINVAL);
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: b, new_handle: b }).ret).toBe(0);
  });

  it('spec §8.2: the new handle taken → the idr error (-ENOSPC), nothing moved', () => {
    const h = new Drm();
    const a = h.create();
    const b = h.create();
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: a, new_handle: b }).ret).toBe(E.ENOSPC);
    expect(h.gem(a)).toBeDefined();
    expect(h.gem(b)).not.toBe(h.gem(a));
  });

  it('spec §8.2: an unknown old handle → -ENOENT, and the new handle stays free', () => {
    const h = new Drm();
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: 4, new_handle: 9 }).ret).toBe(E.ENOENT);
    expect(h.gem(9)).toBeUndefined();
  });

  it('spec §8.2: on success the old handle is closed, the new one names the object, and PRIME_FD_TO_HANDLE returns the new handle', () => {
    const h = new Drm();
    const a = h.create();
    const gem = h.gem(a);
    const fd = h.exportFd(a);
    h.must(h.drm('GEM_CHANGE_HANDLE', { handle: a, new_handle: 40 }));
    expect(h.gem(40)).toBe(gem);
    expect(h.drm('AMDGPU_GEM_MMAP', { handle: a }).ret).toBe(E.ENOENT);
    expect(h.must(h.drm('PRIME_FD_TO_HANDLE', { fd })).out.handle).toBe(40);
    // The freed handle is the lowest free one again.
    expect(h.create()).toBe(a);
  });

  it('spec §8.2 (2026): with the ioctl disabled (drm_invalid_op) every call → -EINVAL', () => {
    const h = new Drm({ variants: { 'gem-change-handle': 'disabled' } });
    const a = h.create();
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: a, new_handle: 5 }).ret).toBe(E.EINVAL);
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: a, new_handle: a }).ret).toBe(E.EINVAL);
  });
});

describe('spec §8.2: GEM_LIST_HANDLES', () => {
  it('spec §8.2: an array smaller than the handle count → 0 with num_entries = the count, nothing copied', () => {
    const h = new Drm();
    h.create();
    h.create();
    h.create();
    const r = h.must(h.drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 2 }));
    expect(r.out.num_entries).toBe(3);
    expect(r.out.entries).toBeUndefined();
  });

  it('spec §8.2: no handles → 0 with num_entries 0', () => {
    expect(new Drm().must(new Drm().drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 8 })).out.num_entries).toBe(0);
  });

  it('spec §8.2: entries in handle order with size, preferred domains, alignment and the settable flags only', () => {
    const h = new Drm();
    const a = h.create({ bo_size: 2 * PAGE, domains: ['VRAM'], domain_flags: ['CPU_ACCESS_REQUIRED'] });
    // A KFD BO allocated CONTIGUOUS gets VRAM_CONTIGUOUS, a flag GEM_CREATE may not set.
    const k = h.alloc(APP, GPU_A, ['VRAM', 'CONTIGUOUS', 'PUBLIC'], 4 * PAGE, '0x7f0000000000');
    const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: k, flags: 0 }, KFD)).out.dmabuf_fd;
    const b = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd })).out.handle as number;
    const r = h.must(h.drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 8 }));
    const e = r.out.entries as { gem_handle: number; size: bigint; preferred_domains: bigint; alloc_flags: bigint }[];
    expect(e.map((x) => x.gem_handle)).toEqual([a, b]);
    // CPU_ACCESS_REQUIRED as asked, and VRAM_CLEARED, which GEM_CREATE adds to every object.
    expect(e[0]).toMatchObject({ size: 8192n, preferred_domains: 4n, alloc_flags: 1n | (1n << 3n) });
    expect(e[1]!.alloc_flags & (1n << 5n)).toBe(0n);
    expect(e[1]!.size).toBe(16384n);
  });
});

describe('spec §8.2: a render-node file that is closed releases its handles (drm_release)', () => {
  it('spec §8.2: after the last fd of the file is closed, its objects are freed and their dma-bufs kept only by fds', () => {
    const h = new Drm();
    const b = h.create({}, RA2);
    const gem = h.gem(b, RA2)!;
    const fd = h.exportFd(b, RA2);
    h.must(h.call(APP, 'close', undefined, { fd: RA2 }));
    // (gpucr releases a closed file's GEM state at the next render-node call, see docs/amdgpu-ioctls.md)
    h.drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 0 });
    expect(h.w.gems[gem]).toBeDefined();
    h.must(h.call(APP, 'close', undefined, { fd }));
    expect(h.w.gems[gem]).toBeUndefined();
  });

  it('spec §8.2, §1: exit releases a process’s render-node objects, the KFD BO it shared with them included', () => {
    const h = new Drm();
    const k = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], 2 * PAGE, '0x7f0000000000');
    h.must(h.map(APP, k, [GPU_A]));
    const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: k, flags: 0 }, KFD)).out.dmabuf_fd;
    h.must(h.drm('PRIME_FD_TO_HANDLE', { fd }));
    h.must(h.drm('PRIME_FD_TO_HANDLE', { fd }, RA2));
    h.must(h.va(h.create({ bo_size: 2 * PAGE }), 0x200000000));
    h.must(h.call(APP, 'exit', undefined, {}));
    // Another process's render-node call runs the release of the closed files.
    h.must(h.open(300, '/dev/dri/renderD128'));
    h.must(h.call(300, 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES', 3, { num_entries: 0 }));
    expect(h.w.gems).toEqual({});
    expect(Object.values(h.w.files).filter((f) => f.kind === 'dmabuf')).toEqual([]);
  });
});
