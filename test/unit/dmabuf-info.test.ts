/**
 * GET_DMABUF_INFO where the kernel source settles what spec §7.2 leaves open (it lists only
 * the no-device case). amdgpu_amdkfd_get_dmabuf_info (amdgpu_amdkfd.c): dma_buf_get(fd) gives
 * -EBADF for an fd that is not open and -EINVAL for one that is not a dma-buf; the flags are
 * VRAM or GTT from the BO's preferred domains, plus PUBLIC when `bo->flags` has
 * AMDGPU_GEM_CREATE_CPU_ACCESS_REQUIRED: a KFD PUBLIC VRAM allocation, or a render-node BO
 * created with it, never a KFD GTT allocation (its bo->flags are 0). A BO whose preferred
 * domains have neither VRAM nor GTT is refused (-EINVAL, "Only VRAM and GTT BOs are
 * supported"); a DOORBELL BO is not one: ALLOC pins it in GTT and sets its preferred domains
 * to GTT (amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu).
 */
import { describe, expect, it } from 'vitest';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../../src/uapi/index.js';
import { APP, E, GPU_A, Harness, MiB, PAGE, VA } from '../conformance/helpers.js';

/** A KFD allocation of GPU A with `flags`, exported; its dma-buf fd. */
function exported(h: Harness, flags: string[], va: bigint): number {
  const handle = h.alloc(APP, GPU_A, flags, 2 * MiB, va);
  return h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle, flags: 0 })).out.dmabuf_fd as number;
}

const info = (h: Harness, dmabuf_fd: number) => h.ioctl(APP, 'GET_DMABUF_INFO', { dmabuf_fd });

describe('GET_DMABUF_INFO (amdgpu_amdkfd_get_dmabuf_info)', () => {
  it('spec §7.2 GET_DMABUF_INFO (dma_buf_get): an fd that is not open → -EBADF; an open file that is not a dma-buf → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(info(h, 99).ret).toBe(E.EBADF);
    expect(info(h, 3).ret).toBe(E.EINVAL); // /dev/kfd
  });

  it('spec §7.2 GET_DMABUF_INFO: PUBLIC from CPU_ACCESS_REQUIRED: KFD PUBLIC VRAM yes, plain VRAM and GTT (even asked PUBLIC) no, a render-node BO created with it yes', () => {
    const h = new Harness();
    const { drm } = h.setupProcess(APP);
    const flagsOf = (fd: number) => h.must(info(h, fd)).out.flags as number;
    expect(flagsOf(exported(h, ['VRAM', 'WRITABLE', 'PUBLIC'], VA.vram))).toBe(F.VRAM | F.PUBLIC);
    expect(flagsOf(exported(h, ['VRAM', 'WRITABLE'], VA.vram + 4n * BigInt(MiB)))).toBe(F.VRAM);
    expect(flagsOf(exported(h, ['GTT', 'WRITABLE', 'PUBLIC'], VA.gtt))).toBe(F.GTT);
    const gem = h.must(
      h.call(APP, 'DRM_IOCTL_AMDGPU_GEM_CREATE', drm[GPU_A], {
        bo_size: 4096,
        domains: ['VRAM'],
        domain_flags: ['CPU_ACCESS_REQUIRED'],
      }),
    ).out.handle as number;
    const fd = h.must(h.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', drm[GPU_A], { handle: gem, flags: 0 })).out
      .fd as number;
    expect(flagsOf(fd)).toBe(F.VRAM | F.PUBLIC);
  });

  it('spec §7.2 GET_DMABUF_INFO, §2.3: a render-node BO created in the CPU domain → -EINVAL; a DOORBELL BO (pinned in GTT at ALLOC) answers GTT', () => {
    const h = new Harness();
    const { drm } = h.setupProcess(APP);
    const cpu = h.must(h.call(APP, 'DRM_IOCTL_AMDGPU_GEM_CREATE', drm[GPU_A], { bo_size: PAGE, domains: ['CPU'] })).out
      .handle as number;
    const fd = h.must(h.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', drm[GPU_A], { handle: cpu, flags: 0 })).out
      .fd as number;
    expect(info(h, fd).ret).toBe(E.EINVAL);
    const db = h.alloc(APP, GPU_A, ['DOORBELL', 'WRITABLE'], 8192, VA.doorbell);
    const dbFd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: db, flags: 0 })).out.dmabuf_fd as number;
    const r = h.must(info(h, dbFd));
    expect(r.out.flags).toBe(F.GTT);
    expect(r.out.size).toBe(8192n);
  });
});
