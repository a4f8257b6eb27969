/**
 * FREE_MEMORY_OF_GPU's vram_usage accounting on an APU, as the kernel source has it
 * (amdgpu_amdkfd_gpuvm_free_memory_of_gpu, amdgpu_amdkfd_gpuvm.c): the size is returned when
 * `!is_imported && (preferred_domains == VRAM || (APU && preferred_domains == GTT))`.
 *
 * Spec §7.2 FREE and the §7.3 table group it as "(VRAM and not imported) or (APU and GTT)",
 * which would subtract an imported GTT BO's size on an APU although its IMPORT added nothing
 * (§7.3: IMPORT 0). The kernel's parenthesis has been the same since the APU clause came in
 * ("For APP APU VRAM allocations are done in GTT domain", and its AMD_IS_APU widening); the
 * model follows it, and docs/conformance.md notes the spec's grouping as a spec error.
 */
import { describe, expect, it } from 'vitest';
import { APP, GPU_A, GPU_B, Harness, PAGE, VA } from '../conformance/helpers.js';

const usage = (h: Harness, gpu: number) => h.pdd(APP, gpu).vram_usage;

describe('FREE_MEMORY_OF_GPU vram_usage on an APU (amdgpu_amdkfd_gpuvm_free_memory_of_gpu)', () => {
  it('spec §7.3 (grouping corrected from the kernel source): FREE of an imported GTT BO on an APU subtracts nothing; an allocated one subtracts its size', () => {
    const h = new Harness({ gpuA: { is_apu: true }, gpuB: { is_apu: true } });
    h.setupProcess(APP);
    const g = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], 2 * PAGE, VA.gtt);
    const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: g, flags: 0 })).out.dmabuf_fd;
    const imp = h.must(h.ioctl(APP, 'IMPORT_DMABUF', { gpu_id: GPU_B, dmabuf_fd: fd, va_addr: VA.vram })).out
      .handle as bigint;
    expect(usage(h, GPU_B)).toBe(0n);
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: imp }));
    // The import added nothing, so its FREE takes nothing away.
    expect(usage(h, GPU_B)).toBe(0n);
    // The exporter's own GTT BO on the APU: subtracted (the kernel's quirk: its ALLOC added nothing).
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: g }));
    expect(usage(h, GPU_A)).toBe(-2n * BigInt(PAGE));
  });
});
