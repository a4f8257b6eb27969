/**
 * Every errno of spec §7.1 (kfd_bind_process_to_device) and §7.2 (the ordinary KFD
 * ioctls) that the model can produce, the MAP/UNMAP n_success resume contract, and
 * the vram_usage table of §7.3 (including the CRIU restore rows).
 */
import { describe, expect, it } from 'vitest';
import { mappedVms } from '../../machines/kfd/bo.js';
import {
  KFD_IOC_ALLOC_MEM_FLAGS as F,
  KFD_MMAP_GPU_ID,
  KFD_MMAP_TYPE,
  KFD_MMAP_TYPE_MASK,
  KFD_MMAP_GPU_ID_MASK,
  MAKE_HANDLE,
} from '../../src/uapi/index.js';
import { APP, buildApp, decodeCk, E, GPU_A, GPU_B, Harness, MiB, PAGE, RESTORED, VA } from './helpers.js';

function mapped(h: Harness, pid: number, handle: bigint): number[] {
  const b = h.bo(h.boId(pid, handle)!);
  return mappedVms(b).sort((x, y) => x - y);
}

describe('spec §7.1: kfd_bind_process_to_device', () => {
  it('spec §7.1 step 2: ALLOC on a GPU whose VM was not acquired → -ENODEV (PTR_ERR); the first bind sets runtime_inuse', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    expect(
      h.ioctl(APP, 'ALLOC_MEMORY_OF_GPU', { gpu_id: GPU_B, flags: ['GTT'], size: PAGE, va_addr: VA.gtt }).ret,
    ).toBe(E.ENODEV);
    expect(h.pdd(APP, GPU_B).runtime_inuse).toBe(false);
    h.alloc(APP, GPU_A, ['GTT'], PAGE, VA.gtt);
    expect(h.pdd(APP, GPU_A).runtime_inuse).toBe(true);
  });

  it('spec §7.1: CREATE_QUEUE collapses the bind error (no VM) to -ESRCH', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    expect(h.createQueue(APP, GPU_B).ret).toBe(E.ESRCH);
    expect(h.task(APP).queues).toEqual({});
  });

  it('spec §7.1: IMPORT_DMABUF on a GPU without VM → -ENODEV (PTR_ERR)', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    const handle = h.alloc(APP, GPU_A, ['VRAM', 'WRITABLE'], PAGE, VA.vram);
    const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle, flags: 0 })).out.dmabuf_fd;
    expect(h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_B, dmabuf_fd: fd, va_addr: VA.gtt }).ret).toBe(E.ENODEV);
  });
});

describe('spec §7.2: ACQUIRE_VM', () => {
  it('spec §7.2 ACQUIRE_VM: drm_fd not open → -EINVAL; gpu_id with no pdd → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP, []);
    expect(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 42, gpu_id: GPU_A }).ret).toBe(E.EINVAL);
    expect(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 4, gpu_id: 0x7777 }).ret).toBe(E.EINVAL);
    expect(h.pdd(APP, GPU_A).drm_file).toBeNull();
  });

  it('spec §7.2 ACQUIRE_VM, §11.2: the same file again → 0 (idempotent); another file → -EBUSY', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    const file = h.pdd(APP, GPU_A).drm_file;
    expect(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 4, gpu_id: GPU_A }).ret).toBe(0);
    const other = h.must(h.open(APP, '/dev/dri/renderD128')).out.fd;
    expect(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: other, gpu_id: GPU_A }).ret).toBe(E.EBUSY);
    expect(h.pdd(APP, GPU_A).drm_file).toBe(file);
  });

  it('spec §7.2 ACQUIRE_VM: a file that is not an amdgpu render node → error; the pdd stays without VM', () => {
    const h = new Harness();
    h.setupProcess(APP, []);
    expect(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 0, gpu_id: GPU_A }).ret).toBeLessThan(0);
    expect(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 3, gpu_id: GPU_A }).ret).toBeLessThan(0);
    expect(h.pdd(APP, GPU_A).drm_file).toBeNull();
  });

  it('spec §7.2 ACQUIRE_VM: a VM that is already a compute VM ("Already a compute VM") → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    // fd 4 (renderD128) became GPU A's compute VM; offering it to GPU B's pdd.
    expect(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 4, gpu_id: GPU_B }).ret).toBe(E.EINVAL);
    expect(h.pdd(APP, GPU_B).drm_file).toBeNull();
  });
});

describe('spec §7.2: ALLOC_MEMORY_OF_GPU', () => {
  const alloc = (h: Harness, raw: Record<string, unknown>) =>
    h.ioctl(APP, 'ALLOC_MEMORY_OF_GPU', { gpu_id: GPU_A, flags: ['GTT'], size: PAGE, va_addr: VA.gtt, ...raw });

  it('spec §7.2 ALLOC: size 0 → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(alloc(h, { size: 0 }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 ALLOC: GPU VA range overlapping an SVM range → -EADDRINUSE', () => {
    const h = new Harness();
    buildApp(h, { svm: true });
    expect(alloc(h, { va_addr: VA.svm + BigInt(PAGE), size: PAGE }).ret).toBe(E.EADDRINUSE);
    expect(alloc(h, { va_addr: VA.svm - BigInt(PAGE), size: 2 * PAGE }).ret).toBe(E.EADDRINUSE);
    expect(alloc(h, { va_addr: VA.svm + 2n * BigInt(PAGE), size: PAGE }).ret).toBe(0);
  });

  it('spec §7.2 ALLOC: USERPTR whose CPU range overlaps an SVM range → -EADDRINUSE', () => {
    const h = new Harness();
    buildApp(h, { svm: true });
    expect(alloc(h, { flags: ['USERPTR'], va_addr: VA.userptr, mmap_offset: VA.svm, size: PAGE }).ret).toBe(
      E.EADDRINUSE,
    );
  });

  it('spec §7.2 ALLOC: the SVM overlap check is skipped for VRAM with va_addr 0', () => {
    const h = new Harness();
    h.setupProcess(APP);
    // An SVM range cannot start at 0 (kfd_ioctl_svm: !start_addr → -EINVAL), and the kernel's IB
    // and CWSR BOs hold pages 1-3, below gpuvm_base: one at page 4, which a five-page BO at VA 0
    // overlaps.
    h.must(h.ioctl(APP, 'SVM', { start_addr: 4 * PAGE, size: PAGE, op: 'SET_ATTR', attrs: [] }));
    expect(alloc(h, { flags: ['GTT'], va_addr: 0, size: 5 * PAGE }).ret).toBe(E.EADDRINUSE);
    expect(alloc(h, { flags: ['VRAM'], va_addr: 0, size: 5 * PAGE }).ret).toBe(0);
  });

  it('spec §7.2 ALLOC: gpu_id with no pdd → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(alloc(h, { gpu_id: 0x7777 }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 ALLOC: PUBLIC VRAM on a device without large BAR → -EINVAL (PUBLIC GTT and large-BAR VRAM are fine)', () => {
    const h = new Harness({ gpuB: { large_bar: false } });
    h.setupProcess(APP);
    expect(alloc(h, { gpu_id: GPU_B, flags: ['VRAM', 'PUBLIC'] }).ret).toBe(E.EINVAL);
    expect(Object.keys(h.userBos(APP, GPU_B))).toHaveLength(0);
    expect(alloc(h, { gpu_id: GPU_B, flags: ['GTT', 'PUBLIC'] }).ret).toBe(0);
    expect(alloc(h, { gpu_id: GPU_A, flags: ['VRAM', 'PUBLIC'] }).ret).toBe(0);
  });

  it('spec §7.2 ALLOC: DOORBELL whose size ≠ kfd_doorbell_process_slice → -EINVAL', () => {
    const h = new Harness({ gpuA: { doorbell_slice_size: 8192 } });
    h.setupProcess(APP);
    expect(alloc(h, { flags: ['DOORBELL'], size: PAGE }).ret).toBe(E.EINVAL);
    expect(alloc(h, { flags: ['DOORBELL'], size: 8192 }).ret).toBe(0);
  });

  it('spec §7.2 ALLOC: MMIO_REMAP whose size ≠ PAGE_SIZE → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(alloc(h, { flags: ['MMIO_REMAP'], size: 2 * PAGE }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 ALLOC: MMIO_REMAP on a device with mmio_remap bus_addr 0 → -ENOMEM', () => {
    const h = new Harness({ gpuA: { mmio_remap_bus_addr: 0 } });
    h.setupProcess(APP);
    expect(alloc(h, { flags: ['MMIO_REMAP'], size: PAGE }).ret).toBe(E.ENOMEM);
    expect(alloc(h, { gpu_id: GPU_B, flags: ['MMIO_REMAP'], size: PAGE }).ret).toBe(0);
  });

  it('spec §7.2 ALLOC, §2.3: USERPTR with mmap_offset 0 → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(alloc(h, { flags: ['USERPTR'], mmap_offset: 0 }).ret).toBe(E.EINVAL);
    expect(Object.keys(h.userBos(APP, GPU_A))).toHaveLength(0);
  });

  it('spec §7.2 ALLOC, §2.3: no memory-type flag → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(alloc(h, { flags: ['WRITABLE', 'EXECUTABLE'] }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 ALLOC, §2.3: amdgpu_amdkfd_reserve_mem_limit failure (VRAM beyond the device) → -ENOMEM', () => {
    const h = new Harness({ gpuA: { vram_size: 4 * MiB } });
    h.setupProcess(APP);
    expect(alloc(h, { flags: ['VRAM'], size: 8 * MiB }).ret).toBe(E.ENOMEM);
  });

  it('spec §7.2 ALLOC success: handle = MAKE_HANDLE(gpu_id, lowest free idr), MMIO offset, BO not mapped', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const a = alloc(h, {});
    const b = alloc(h, { va_addr: VA.gtt + 0x100000n });
    expect(a.out.handle).toBe(MAKE_HANDLE(GPU_A, 0));
    expect(b.out.handle).toBe(MAKE_HANDLE(GPU_A, 1));
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: a.out.handle }));
    expect(alloc(h, { va_addr: VA.gtt + 0x200000n }).out.handle).toBe(MAKE_HANDLE(GPU_A, 0));
    const m = alloc(h, { gpu_id: GPU_B, flags: ['MMIO_REMAP'], size: PAGE, va_addr: VA.mmio });
    expect(m.out.mmap_offset).toBe(KFD_MMAP_TYPE.MMIO | KFD_MMAP_GPU_ID(GPU_B));
    expect(m.out.handle).toBe(MAKE_HANDLE(GPU_B, 0));
    expect(mapped(h, APP, b.out.handle as bigint)).toEqual([]);
    expect(h.bo(h.boId(APP, b.out.handle as bigint)!).mapped_to_gpu_memory).toBe(0);
  });
});

describe('spec §7.2: FREE_MEMORY_OF_GPU', () => {
  it('spec §7.2 FREE: the signal page BO (p->signal_handle) → -EPERM, the BO stays', () => {
    const h = new Harness();
    const app = buildApp(h, { events: true });
    h.must(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: app.eventPage, device_ids: [GPU_A] }));
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: app.eventPage }).ret).toBe(E.EPERM);
    expect(h.boId(APP, app.eventPage!)).toBeDefined();
  });

  it('spec §7.2 FREE: handle whose gpu_id has no pdd → -EINVAL; unknown idr handle → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['GTT'], PAGE, VA.gtt);
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: MAKE_HANDLE(0x7777, 0) }).ret).toBe(E.EINVAL);
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: MAKE_HANDLE(GPU_A, 9) }).ret).toBe(E.EINVAL);
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: MAKE_HANDLE(GPU_B, 0) }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 FREE, §11.3: a BO still mapped → -EBUSY, handle kept; after UNMAP it frees, and the handle is gone', () => {
    const h = new Harness();
    const app = buildApp(h, { vram: true });
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: app.vram }).ret).toBe(E.EBUSY);
    expect(h.boId(APP, app.vram!)).toBeDefined();
    h.must(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: app.vram, device_ids: [GPU_A, GPU_B] }));
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: app.vram }).ret).toBe(0);
    expect(h.boId(APP, app.vram!)).toBeUndefined();
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: app.vram }).ret).toBe(E.EINVAL);
  });
});

describe('spec §7.2: MAP_MEMORY_TO_GPU / UNMAP_MEMORY_FROM_GPU', () => {
  for (const op of ['MAP_MEMORY_TO_GPU', 'UNMAP_MEMORY_FROM_GPU'] as const) {
    it(`spec §7.2 ${op}: n_devices 0 → -EINVAL; n_success > n_devices → -EINVAL; ids shorter than n_devices (copy_from_user) → -EFAULT`, () => {
      const h = new Harness();
      const app = buildApp(h, { gtt: true });
      expect(h.ioctl(APP, op, { handle: app.gtt, device_ids: [] }).ret).toBe(E.EINVAL);
      expect(h.ioctl(APP, op, { handle: app.gtt, device_ids: [GPU_A], n_devices: 0 }).ret).toBe(E.EINVAL);
      expect(h.ioctl(APP, op, { handle: app.gtt, device_ids: [GPU_A], n_success: 2 }).ret).toBe(E.EINVAL);
      expect(h.ioctl(APP, op, { handle: app.gtt, device_ids: [GPU_A], n_devices: 2 }).ret).toBe(E.EFAULT);
      expect(mapped(h, APP, app.gtt!)).toEqual([GPU_A]);
    });

    it(`spec §7.2 ${op}: handle whose gpu_id has no pdd → -EINVAL; unknown handle → -ENOMEM; peer gpu_id with no pdd → -EINVAL`, () => {
      const h = new Harness();
      const app = buildApp(h, { gtt: true });
      expect(h.ioctl(APP, op, { handle: MAKE_HANDLE(0x7777, 0), device_ids: [GPU_A] }).ret).toBe(E.EINVAL);
      expect(h.ioctl(APP, op, { handle: MAKE_HANDLE(GPU_A, 42), device_ids: [GPU_A] }).ret).toBe(E.ENOMEM);
      const r = h.ioctl(APP, op, { handle: app.gtt, device_ids: [0x7777] });
      expect(r.ret).toBe(E.EINVAL);
      expect(r.out.n_success).toBe(0);
    });
  }

  it('spec §7.2 MAP, §7.1: handle on a GPU without VM → -ENODEV (bind precedes the handle lookup)', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    expect(h.map(APP, MAKE_HANDLE(GPU_B, 0), [GPU_B]).ret).toBe(E.ENODEV);
  });

  it('spec §7.2 MAP: n_success is the resume point — a MAP failing on its second device (peer without VM, -ENODEV) leaves n_success 1; retrying with it completes', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    const handle = h.alloc(APP, GPU_A, ['VRAM', 'WRITABLE'], 2 * MiB, VA.vram);
    const first = h.map(APP, handle, [GPU_A, GPU_B]);
    expect(first.ret).toBe(E.ENODEV);
    expect(first.out.n_success).toBe(1);
    expect(mapped(h, APP, handle)).toEqual([GPU_A]);
    h.must(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 5, gpu_id: GPU_B }));
    const retry = h.ioctl(APP, 'MAP_MEMORY_TO_GPU', { handle, device_ids: [GPU_A, GPU_B], n_success: 1 });
    expect(retry.ret).toBe(0);
    expect(retry.out.n_success).toBe(2);
    expect(mapped(h, APP, handle)).toEqual([GPU_A, GPU_B].sort((x, y) => x - y));
    // mapped_to_gpu_memory counts one per VM: GPU A was not mapped twice.
    expect(h.bo(h.boId(APP, handle)!).mapped_to_gpu_memory).toBe(2);
  });

  it('spec §7.2 UNMAP: BO not mapped in that VM → -EINVAL with n_success at the failing device; retry from n_success', () => {
    const h = new Harness();
    const app = buildApp(h, { gtt: true }); // mapped on A only
    const r = h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: app.gtt, device_ids: [GPU_A, GPU_B] });
    expect(r.ret).toBe(E.EINVAL);
    expect(r.out.n_success).toBe(1);
    expect(mapped(h, APP, app.gtt!)).toEqual([]);
    expect(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: app.gtt, device_ids: [GPU_A] }).ret).toBe(E.EINVAL);
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: app.gtt }).ret).toBe(0);
  });
});

describe('spec §7.2: IMPORT_DMABUF / EXPORT_DMABUF / GET_DMABUF_INFO', () => {
  function exporter(h: Harness, flags = ['VRAM', 'WRITABLE'], va = VA.vram) {
    const handle = h.alloc(APP, GPU_A, flags, 2 * MiB, va);
    const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle, flags: 0 })).out.dmabuf_fd as number;
    return { handle, fd };
  }

  it('spec §7.2 IMPORT: gpu_id with no pdd → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const { fd } = exporter(h);
    expect(h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: 0x7777, dmabuf_fd: fd, va_addr: VA.gtt }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 IMPORT: a dmabuf_fd that is not open, or not a dma-buf → error', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_B, dmabuf_fd: 99, va_addr: VA.gtt }).ret).toBeLessThan(0);
    expect(h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_B, dmabuf_fd: 4, va_addr: VA.gtt }).ret).toBeLessThan(0);
    expect(Object.keys(h.userBos(APP, GPU_B))).toHaveLength(0);
  });

  it('spec §7.2 IMPORT, §2.3: a BO that is not VRAM/GTT (a render-node BO created in the CPU domain) → -EINVAL; a DOORBELL BO, "pinned in GTT" at ALLOC, is GTT and imports', () => {
    const h = new Harness();
    const { drm } = h.setupProcess(APP);
    const cpu = h.must(h.call(APP, 'DRM_IOCTL_AMDGPU_GEM_CREATE', drm[GPU_A], { bo_size: PAGE, domains: ['CPU'] })).out
      .handle as number;
    const fd = h.must(h.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', drm[GPU_A], { handle: cpu, flags: 0 })).out.fd;
    expect(h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_A, dmabuf_fd: fd, va_addr: VA.gtt }).ret).toBe(E.EINVAL);
    // amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu pins a DOORBELL BO in GTT and sets
    // preferred_domains = GTT, so import_obj_create's domain check passes.
    const db = h.alloc(APP, GPU_A, ['DOORBELL', 'WRITABLE'], 8192, VA.doorbell);
    const ex = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: db, flags: 0 }));
    const imp = h.must(
      h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_B, dmabuf_fd: ex.out.dmabuf_fd, va_addr: VA.gtt + BigInt(PAGE) }),
    );
    expect(h.bo(h.boId(APP, imp.out.handle as bigint)!).alloc_flags).toBe((F.GTT | F.WRITABLE | F.EXECUTABLE) >>> 0);
  });

  it('spec §7.2 IMPORT success: flags (VRAM|GTT)|WRITABLE|EXECUTABLE, is_imported, no vram_usage change', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const { fd } = exporter(h, ['VRAM']);
    const before = h.pdd(APP, GPU_B).vram_usage;
    const r = h.must(h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_B, dmabuf_fd: fd, va_addr: VA.gtt }));
    expect(r.out.handle).toBe(MAKE_HANDLE(GPU_B, 0));
    const b = h.bo(h.boId(APP, r.out.handle as bigint)!);
    expect(b.is_imported).toBe(true);
    expect(b.alloc_flags).toBe((F.VRAM | F.WRITABLE | F.EXECUTABLE) >>> 0);
    expect(h.pdd(APP, GPU_B).vram_usage).toBe(before);
  });

  it('spec §7.2 EXPORT: kfd_device_by_id(GET_GPU_ID(handle)) NULL → -EINVAL; unknown handle → -EINVAL; userptr export error', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const up = h.alloc(APP, GPU_A, ['USERPTR'], PAGE, VA.userptr, { mmap_offset: VA.userptrCpu });
    expect(h.ioctl(APP, 'EXPORT_DMABUF', { handle: MAKE_HANDLE(0x7777, 0), flags: 0 }).ret).toBe(E.EINVAL);
    expect(h.ioctl(APP, 'EXPORT_DMABUF', { handle: MAKE_HANDLE(GPU_A, 5), flags: 0 }).ret).toBe(E.EINVAL);
    expect(h.ioctl(APP, 'EXPORT_DMABUF', { handle: up, flags: 0 }).ret).toBeLessThan(0);
    expect(Object.keys(h.task(APP).fds).map(Number)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('spec §7.2 EXPORT [DERIVED]: after a cross-node restore the handle’s user gpu_id is looked up as an actual device id → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['VRAM', 'WRITABLE'], PAGE, VA.vram);
    const ck = h.checkpoint(APP);
    // Pretend the checkpoint came from a node where this GPU's id was 0x0777.
    const USER = 0x0777;
    const devices = ck.devices.map((d) => (d.user_gpu_id === GPU_A ? { ...d, user_gpu_id: USER } : d));
    const bos = ck.bos.map((b) => ({ ...b, gpu_id: USER }));
    const r = h.restore(RESTORED, { ...ck, devices, bos }, { deviceMap: { [USER]: GPU_A } });
    expect(r.ret).toBe(0);
    // Other ioctls translate through user_gpu_id and find the BO …
    expect(h.boId(RESTORED, MAKE_HANDLE(USER, 0))).toBeDefined();
    expect(h.map(RESTORED, MAKE_HANDLE(USER, 0), [USER]).ret).toBe(0);
    // … EXPORT does not: no device has id 0x0777.
    expect(h.ioctl(RESTORED, 'EXPORT_DMABUF', { handle: MAKE_HANDLE(USER, 0), flags: 0 }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 GET_DMABUF_INFO: no KFD device → -EINVAL', () => {
    const h = new Harness({ gpus: [] });
    h.must(h.open(APP, '/dev/kfd'));
    expect(h.ioctl(APP, 'GET_DMABUF_INFO', { dmabuf_fd: 0 }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 GET_DMABUF_INFO: returns size, flags and the actual gpu_id of the exporting node', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const { fd } = exporter(h, ['VRAM', 'WRITABLE']);
    const r = h.must(h.ioctl(APP, 'GET_DMABUF_INFO', { dmabuf_fd: fd }));
    expect(r.out.size).toBe(2n * BigInt(MiB));
    expect(r.out.gpu_id).toBe(GPU_A);
    expect(((r.out.flags as number) & F.VRAM) !== 0).toBe(true);
  });
});

describe('spec §7.2: CREATE_QUEUE / DESTROY_QUEUE', () => {
  it('spec §7.2 CREATE_QUEUE: (queue_percentage & 0xFF) > 100 → -EINVAL; bits 8–15 (pm4_target_xcc) are not part of it', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { queue_percentage: 101 }).ret).toBe(E.EINVAL);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { queue_percentage: 0x1ff }).ret).toBe(E.EINVAL);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { queue_percentage: 0x164 }).ret).toBe(0);
  });

  it('spec §7.2 CREATE_QUEUE: queue_priority > 15 → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { queue_priority: 16 }).ret).toBe(E.EINVAL);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { queue_priority: 15 }).ret).toBe(0);
  });

  it('spec §7.2 CREATE_QUEUE: ring_size not a power of two → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { ring_size: 3000 }).ret).toBe(E.EINVAL);
    expect(h.task(APP).queues).toEqual({});
  });

  for (const field of [
    'ring_base_address',
    'read_pointer_address',
    'write_pointer_address',
    'eop_buffer_address',
    'ctx_save_restore_address',
  ]) {
    it(`spec §7.2 CREATE_QUEUE: inaccessible ${field} (kernel address) → -EFAULT`, () => {
      const h = new Harness();
      h.setupProcess(APP);
      expect(h.createQueue(APP, GPU_A, 'COMPUTE', { [field]: '0xffff888000000000' }).ret).toBe(E.EFAULT);
    });
  }

  it('spec §7.2 CREATE_QUEUE: unknown queue_type → -ENOTSUPP (524)', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 9 as never).ret).toBe(E.ENOTSUPP);
  });

  it('spec §7.2 CREATE_QUEUE: gpu_id with no pdd → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, 0x7777).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 CREATE_QUEUE: SDMA_BY_ENG_ID with an engine id out of range → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 'SDMA_BY_ENG_ID', { sdma_engine_id: 99 }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 CREATE_QUEUE, §5.4: pqm_create_queue queue-count limit (127 per device) → -ENOSPC', () => {
    const h = new Harness();
    h.setupProcess(APP);
    for (let i = 0; i < 127; i++) h.must(h.createQueue(APP, GPU_A));
    expect(h.createQueue(APP, GPU_A).ret).toBe(E.ENOSPC);
    // The limit is per device.
    expect(h.createQueue(APP, GPU_B).ret).toBe(0);
  });

  it('spec §7.2 CREATE_QUEUE outputs: queue_id, doorbell_offset = DOORBELL | GPU_ID(gpu_id) | offset; created evicted while the process is evicted', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const r = h.must(h.createQueue(APP, GPU_B));
    expect(r.out.queue_id).toBe(0);
    const off = r.out.doorbell_offset as bigint;
    expect(off & KFD_MMAP_TYPE_MASK).toBe(KFD_MMAP_TYPE.DOORBELL);
    expect(off & KFD_MMAP_GPU_ID_MASK).toBe(KFD_MMAP_GPU_ID(GPU_B));
    expect(h.queueActive(APP, 0)).toBe(true);
    h.must(h.processInfo(APP));
    const q = h.must(h.createQueue(APP, GPU_A)).out.queue_id as number;
    expect(q).toBe(1);
    expect(h.queueEvicted(APP, q)).toBe(true);
  });

  it('spec §7.2 DESTROY_QUEUE: unknown queue id → error', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.ioctl(APP, 'DESTROY_QUEUE', { queue_id: 3 }).ret).toBeLessThan(0);
    h.must(h.createQueue(APP, GPU_A));
    expect(h.ioctl(APP, 'DESTROY_QUEUE', { queue_id: 0 }).ret).toBe(0);
    expect(h.ioctl(APP, 'DESTROY_QUEUE', { queue_id: 0 }).ret).toBeLessThan(0);
  });
});

describe('spec §7.2: CREATE/DESTROY/SET/RESET_EVENT', () => {
  it('spec §7.2 CREATE_EVENT: event page already set → -EINVAL', () => {
    const h = new Harness();
    const app = buildApp(h, { events: true });
    const other = h.alloc(APP, GPU_A, ['GTT'], PAGE, VA.gtt);
    const r = h.ioctl(APP, 'CREATE_EVENT', { event_page_offset: other, event_type: 'SIGNAL' });
    expect(r.ret).toBe(E.EINVAL);
    expect(h.proc(APP).signal_handle).toBe(app.eventPage);
  });

  it('spec §7.2 CREATE_EVENT: event page handle with no pdd, or an unknown BO → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.ioctl(APP, 'CREATE_EVENT', { event_page_offset: MAKE_HANDLE(0x7777, 0), event_type: 'SIGNAL' }).ret).toBe(
      E.EINVAL,
    );
    expect(h.ioctl(APP, 'CREATE_EVENT', { event_page_offset: MAKE_HANDLE(GPU_A, 3), event_type: 'SIGNAL' }).ret).toBe(
      E.EINVAL,
    );
    expect(h.proc(APP).signal_page).toBe(false);
  });

  it('spec §7.2 CREATE_EVENT: a userptr BO as event page (cannot be kmapped) → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const up = h.alloc(APP, GPU_A, ['USERPTR'], PAGE, VA.userptr, { mmap_offset: VA.userptrCpu });
    expect(h.ioctl(APP, 'CREATE_EVENT', { event_page_offset: up, event_type: 'SIGNAL' }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 CREATE_EVENT, §5.1: signal events beyond signal_mapped_size/8 → -ENOSPC (slot 0 is reserved)', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const page = h.alloc(APP, GPU_A, ['GTT'], PAGE, VA.eventPage); // 4096 / 8 = 512 slots
    const first = h.must(h.ioctl(APP, 'CREATE_EVENT', { event_page_offset: page, event_type: 'SIGNAL' }));
    expect(first.out.event_id).toBe(1);
    for (let i = 2; i <= 511; i++) h.must(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'SIGNAL' }));
    expect(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'SIGNAL' }).ret).toBe(E.ENOSPC);
    // Non-signal events do not use slots.
    expect(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'MEMORY' }).ret).toBe(0);
  });

  it('spec §7.2 CREATE_EVENT outputs: event_id = event_trigger_data = event_slot_index; event_page_offset = KFD_MMAP_TYPE_EVENTS for a signal event', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const r = h.must(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'SIGNAL' }));
    expect(r.out.event_trigger_data).toBe(r.out.event_id);
    expect(r.out.event_slot_index).toBe(r.out.event_id);
    expect(r.out.event_page_offset).toBe(KFD_MMAP_TYPE.EVENTS);
  });

  it('spec §7.2 CREATE_EVENT outputs (kfd_event_create): "for signal events" — a MEMORY event returns event_page_offset 0 and the caller\'s event_slot_index; a DEBUG event gets a slot', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const mem = h.must(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'MEMORY', event_slot_index: 5 }));
    expect(mem.out.event_trigger_data).toBe(mem.out.event_id);
    expect(mem.out.event_slot_index).toBe(5);
    expect(mem.out.event_page_offset).toBe(0n);
    const dbg = h.must(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'DEBUG_EVENT', event_slot_index: 5 }));
    expect(dbg.out.event_slot_index).toBe(dbg.out.event_id);
    expect(dbg.out.event_page_offset).toBe(KFD_MMAP_TYPE.EVENTS);
  });

  for (const op of ['DESTROY_EVENT', 'SET_EVENT', 'RESET_EVENT'] as const) {
    it(`spec §7.2 ${op}: unknown event id → -EINVAL`, () => {
      const h = new Harness();
      h.setupProcess(APP);
      expect(h.ioctl(APP, op, { event_id: 7 }).ret).toBe(E.EINVAL);
    });
  }

  for (const op of ['SET_EVENT', 'RESET_EVENT'] as const) {
    it(`spec §7.2 ${op}: a non-SIGNAL event → -EINVAL`, () => {
      const h = new Harness();
      h.setupProcess(APP);
      const id = h.must(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'MEMORY' })).out.event_id;
      expect(h.ioctl(APP, op, { event_id: id }).ret).toBe(E.EINVAL);
      const sig = h.must(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'SIGNAL' })).out.event_id;
      expect(h.ioctl(APP, op, { event_id: sig }).ret).toBe(0);
    });
  }
});

describe('spec §7.2: SET_XNACK_MODE', () => {
  it('spec §7.2 SET_XNACK_MODE: with user queues → -EBUSY', () => {
    const h = new Harness({ gpuA: { xnack_capable: true }, gpuB: { xnack_capable: true } });
    h.setupProcess(APP);
    h.must(h.createQueue(APP, GPU_A));
    expect(h.ioctl(APP, 'SET_XNACK_MODE', { xnack_enabled: 1 }).ret).toBe(E.EBUSY);
    expect(h.ioctl(APP, 'SET_XNACK_MODE', { xnack_enabled: 0 }).ret).toBe(E.EBUSY);
    expect(h.proc(APP).xnack_enabled).toBe(false);
  });

  it('spec §7.2 SET_XNACK_MODE: XNACK on a GPU that does not support it → -EPERM; a negative value queries', () => {
    const h = new Harness({ gpuA: { xnack_capable: true } });
    h.setupProcess(APP);
    expect(h.ioctl(APP, 'SET_XNACK_MODE', { xnack_enabled: 1 }).ret).toBe(E.EPERM);
    const q = h.must(h.ioctl(APP, 'SET_XNACK_MODE', { xnack_enabled: -1 }));
    expect(q.out.xnack_enabled).toBe(0);
    const all = new Harness({ gpuA: { xnack_capable: true }, gpuB: { xnack_capable: true } });
    all.setupProcess(APP);
    expect(all.ioctl(APP, 'SET_XNACK_MODE', { xnack_enabled: 1 }).ret).toBe(0);
    expect(all.must(all.ioctl(APP, 'SET_XNACK_MODE', { xnack_enabled: -1 })).out.xnack_enabled).toBe(1);
  });
});

describe('spec §7.3: vram_usage accounting', () => {
  const usage = (h: Harness, gpu = GPU_A, pid = APP) => h.pdd(pid, gpu).vram_usage;

  it('spec §7.3: ALLOC VRAM adds PAGE_ALIGN(size), halved for AQL_QUEUE_MEM; GTT, USERPTR add nothing', () => {
    const h = new Harness();
    h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['VRAM'], 5000, 0x7f0010000000n);
    expect(usage(h)).toBe(8192n);
    h.alloc(APP, GPU_A, ['VRAM', 'AQL_QUEUE_MEM'], 16384, 0x7f0020000000n);
    expect(usage(h)).toBe(8192n + 8192n);
    h.alloc(APP, GPU_A, ['VRAM', 'AQL_QUEUE_MEM'], 12288, 0x7f0030000000n); // 6144 → 8192
    expect(usage(h)).toBe(3n * 8192n);
    h.alloc(APP, GPU_A, ['GTT'], 2 * MiB, 0x7f0040000000n);
    h.alloc(APP, GPU_A, ['USERPTR'], MiB, 0x7f0050000000n, { mmap_offset: VA.userptrCpu });
    expect(usage(h)).toBe(3n * 8192n);
  });

  it('spec §7.3: FREE of VRAM subtracts the BO size; a FREE failing with -EBUSY subtracts nothing', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const v = h.alloc(APP, GPU_A, ['VRAM'], 5000, VA.vram);
    h.must(h.map(APP, v, [GPU_A]));
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: v }).ret).toBe(E.EBUSY);
    expect(usage(h)).toBe(8192n);
    h.must(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: v, device_ids: [GPU_A] }));
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: v }));
    expect(usage(h)).toBe(0n);
  });

  it('spec §7.3: IMPORT adds nothing and FREE of an imported VRAM BO subtracts nothing', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const v = h.alloc(APP, GPU_A, ['VRAM'], 2 * MiB, VA.vram);
    const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: v, flags: 0 })).out.dmabuf_fd;
    const imp = h.must(h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_B, dmabuf_fd: fd, va_addr: VA.gtt })).out
      .handle as bigint;
    expect(usage(h, GPU_B)).toBe(0n);
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: imp }));
    expect(usage(h, GPU_B)).toBe(0n);
    expect(usage(h, GPU_A)).toBe(2n * BigInt(MiB));
  });

  it('spec §7.3, §2.3: on an APU, VRAM lands in GTT; FREE subtracts the size of GTT BOs (so a GTT BO’s FREE goes below what its ALLOC added) [DERIVED]', () => {
    const h = new Harness({ gpuA: { is_apu: true } });
    h.setupProcess(APP);
    const v = h.alloc(APP, GPU_A, ['VRAM'], 2 * PAGE, VA.vram);
    expect(usage(h)).toBe(2n * BigInt(PAGE));
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: v }));
    expect(usage(h)).toBe(0n);
    const g = h.alloc(APP, GPU_A, ['GTT'], PAGE, VA.gtt);
    expect(usage(h)).toBe(0n);
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: g }));
    expect(usage(h)).toBe(-BigInt(PAGE));
  });

  it('spec §7.3, §5.4 step 4: CRIU RESTORE of a VRAM BO adds bucket.size (not page-aligned); GTT adds nothing', () => {
    const h = new Harness();
    h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['VRAM', 'WRITABLE'], 2 * MiB, VA.vram);
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], 2 * MiB, VA.gtt);
    const ck = h.checkpoint(APP);
    expect(h.restore(RESTORED, ck).ret).toBe(0);
    expect(usage(h, GPU_A, RESTORED)).toBe(2n * BigInt(MiB));
    const odd = new Harness();
    odd.setupProcess(APP);
    odd.alloc(APP, GPU_A, ['VRAM', 'WRITABLE'], 2 * PAGE, VA.vram);
    const ck2 = odd.checkpoint(APP);
    const r = odd.restore(RESTORED, ck2, {
      edit: (a) => ((a.bos as { size: bigint }[])[0]!.size = 5000n),
    });
    expect(r.ret).toBe(0);
    expect(usage(odd, GPU_A, RESTORED)).toBe(5000n);
  });

  it('spec §7.3 [DERIVED]: an AQL_QUEUE_MEM VRAM BO is restored at a quarter of the requested size, while vram_usage adds the checkpointed size', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const handle = h.alloc(APP, GPU_A, ['VRAM', 'AQL_QUEUE_MEM', 'WRITABLE'], 16 * PAGE, VA.vram);
    expect(h.bo(h.boId(APP, handle)!).size).toBe(8n * BigInt(PAGE));
    const ck = h.checkpoint(APP);
    expect(ck.bos[0]!.size).toBe(8n * BigInt(PAGE));
    h.must(h.restore(RESTORED, ck));
    expect(h.bo(h.boId(RESTORED, handle)!).size).toBe(4n * BigInt(PAGE));
    expect(usage(h, GPU_A, RESTORED)).toBe(8n * BigInt(PAGE));
    // The checkpoint of the restored process records the quartered size.
    const again = h.checkpoint(RESTORED);
    expect(decodeCk(again).bos).toHaveLength(1);
    expect(again.bos[0]!.size).toBe(4n * BigInt(PAGE));
  });
});
