/**
 * MAP_MEMORY_TO_GPU of an AQL queue BO whose first half conflicts, from the kernel source
 * (amdgpu_amdkfd_gpuvm.c, read through `search`; not in the spec): kfd_mem_attach gives an
 * AQL_QUEUE_MEM BO two entries per VM, at `va` and `va + size`, each added at the head of
 * `mem->attachments`; amdgpu_amdkfd_gpuvm_map_memory_to_gpu maps the VM's unmapped entries in
 * list order, the one at `va + size` first, and returns at the first amdgpu_vm_bo_map that
 * fails, leaving the entries before it mapped. The attachment itself (kfd_mem_attach) is made
 * before any mapping and is not undone. Before session 17 the model checked both halves first
 * and mapped nothing (docs/conformance.md, "still different").
 */
import { describe, expect, it } from 'vitest';
import { isMappedIn } from '../../machines/kfd/bo.js';
import { processView } from '../../src/criu/process-view.js';
import { boVaFind, boVaMappings } from '../../src/ioctls/amdgpu/kernel/vm.js';
import { computeVmFile } from '../../src/ioctls/kfd/kernel/gpuvm-compute-vm.js';
import type { Variants } from '../../src/world/types.js';
import { APP, decodeCk, E, GPU_A, Harness, PAGE, RESTORED } from '../conformance/helpers.js';

const P = BigInt(PAGE);
/** The other BO's VA: one page that the AQL BO's entry at `va` overlaps, and its entry at `va + size` does not. */
const VA = 0x7f0000000000n;

/** The first pages of the mappings of a BO's bo_va in a pid's VM on a GPU (none when there is no bo_va). */
function mappedPages(h: Harness, pid: number, boId: string, gpu: number): bigint[] | undefined {
  const bv = boVaFind(h.w, computeVmFile(h.w, pid, gpu), h.bo(boId).gem);
  return bv === undefined ? undefined : boVaMappings(h.w, bv).map((m) => m.start);
}

/** A process with a one-page GTT BO mapped on A at VA, and an AQL BO of one page per half at VA. */
function conflict(variants: Partial<Variants> = {}): { h: Harness; other: bigint; aql: bigint; aqlId: string } {
  const h = new Harness({ variants });
  h.setupProcess(APP);
  const other = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA);
  h.must(h.map(APP, other, [GPU_A]));
  // AQL_QUEUE_MEM halves the requested size: two pages asked, one page per entry.
  const aql = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE', 'AQL_QUEUE_MEM'], 2 * PAGE, VA);
  return { h, other, aql, aqlId: h.boId(APP, aql)! };
}

describe('MAP of an AQL BO whose entry at va conflicts (amdgpu_amdkfd_gpuvm_map_memory_to_gpu)', () => {
  it('spec §7.2 MAP (VA conflict → -EINVAL): fails with -EINVAL after mapping the entry at va + size: the BO is half mapped', () => {
    const { h, aql, aqlId } = conflict();
    const r = h.map(APP, aql, [GPU_A]);
    expect(r.ret).toBe(E.EINVAL);
    expect(r.out.n_success).toBe(0);
    const b = h.bo(aqlId);
    expect(b.attachments).toEqual([{ vm: GPU_A, is_mapped: true, half_mapped: true }]);
    expect(b.mapped_to_gpu_memory).toBe(1);
    expect(mappedPages(h, APP, aqlId, GPU_A)).toEqual([(VA + P) / P]);
  });

  it('spec §7.2 FREE (mapped → -EBUSY): a half-mapped BO cannot be freed (mapped_to_gpu_memory > 0: -EBUSY); UNMAP unmaps only its mapped entry', () => {
    const { h, other, aql, aqlId } = conflict();
    h.map(APP, aql, [GPU_A]);
    expect(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: aql }).ret).toBe(E.EBUSY);
    h.must(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: aql, device_ids: [GPU_A] }));
    expect(h.bo(aqlId).attachments).toEqual([{ vm: GPU_A, is_mapped: false }]);
    expect(mappedPages(h, APP, aqlId, GPU_A)).toEqual([]);
    // The other BO's mapping at va is untouched.
    expect(mappedPages(h, APP, h.boId(APP, other)!, GPU_A)).toEqual([VA / P]);
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: aql }));
  });

  it('a later MAP of the VM, once va is free, maps the rest: the loop skips the mapped entry', () => {
    const { h, other, aql, aqlId } = conflict();
    h.map(APP, aql, [GPU_A]);
    h.must(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: other, device_ids: [GPU_A] }));
    h.must(h.map(APP, aql, [GPU_A]));
    const b = h.bo(aqlId);
    expect(b.attachments).toEqual([{ vm: GPU_A, is_mapped: true }]);
    expect(b.mapped_to_gpu_memory).toBe(1);
    expect(mappedPages(h, APP, aqlId, GPU_A)?.sort()).toEqual([VA / P, (VA + P) / P]);
    // ...and the next MAP of a whole mapping does nothing.
    expect(h.map(APP, aql, [GPU_A]).ret).toBe(0);
    expect(mappedPages(h, APP, aqlId, GPU_A)).toHaveLength(2);
  });

  it('spec §7.2 MAP (VA conflict → -EINVAL): a MAP that maps nothing still attaches (kfd_mem_attach comes first): the bo_va stays, unmapped', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const other = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA);
    h.must(h.map(APP, other, [GPU_A]));
    const plain = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA);
    const id = h.boId(APP, plain)!;
    expect(h.map(APP, plain, [GPU_A]).ret).toBe(E.EINVAL);
    expect(h.bo(id).attachments).toEqual([{ vm: GPU_A, is_mapped: false }]);
    expect(h.bo(id).mapped_to_gpu_memory).toBe(0);
    expect(mappedPages(h, APP, id, GPU_A)).toEqual([]);
    // Not mapped: FREE succeeds and detaches (the bo_va goes with its last reference).
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: plain }));
    expect(boVaFind(h.w, computeVmFile(h.w, APP, GPU_A), h.bo(h.boId(APP, other)!).gem)).toBeDefined();
  });
});

describe('CRIU of a half-mapped AQL BO (kfd_criu_checkpoint_bos, kfd_criu_restore_bo)', () => {
  it('spec §5.2 mapped_gpuids, §5.4 map to GPUs: CHECKPOINT lists the GPU in mapped_gpuids (amdgpu_amdkfd_bo_mapped_to_dev: some entry mapped), and RESTORE fails with -EINVAL while the other BO is mapped there', () => {
    const { h, aql, aqlId } = conflict();
    h.map(APP, aql, [GPU_A]);
    expect(isMappedIn(h.bo(aqlId), GPU_A)).toBe(true);
    const ck = h.checkpoint(APP);
    const priv = decodeCk(ck);
    const idr = Number(aql & 0xffffffffn);
    expect(priv.bos.find((b) => b.idr_handle === idr)?.mapped_gpuids).toEqual([GPU_A]);
    // The restore maps both BOs whole, in bucket order: the other BO first, then the AQL BO's
    // entry at va conflicts, and kfd_criu_restore_bo's map fails the whole RESTORE.
    expect(h.restore(RESTORED, ck).ret).toBe(E.EINVAL);
  });

  it('with the conflict gone before the dump, the restore maps the BO whole: the views differ by half_mapped_on', () => {
    const { h, other, aql } = conflict();
    h.map(APP, aql, [GPU_A]);
    h.must(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: other, device_ids: [GPU_A] }));
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: other }));
    const ck = h.checkpoint(APP);
    h.must(h.restore(RESTORED, ck));
    const bosOf = (pid: number) =>
      (processView(h.w, pid)[`gpu ${GPU_A.toString(16)}`] as { bos: Record<number, Record<string, unknown>> }).bos;
    const idr = Number(aql & 0xffffffffn);
    expect(bosOf(APP)[idr]).toMatchObject({ mapped_on: [GPU_A], half_mapped_on: [GPU_A] });
    expect(bosOf(RESTORED)[idr]!.mapped_on).toEqual([GPU_A]);
    expect(bosOf(RESTORED)[idr]).not.toHaveProperty('half_mapped_on');
  });
});

describe('the variant kfd-map-failure=unwind (a fix gpucr proposes, docs/design-variants.md)', () => {
  it('the failed MAP leaves nothing mapped, only the attachment; FREE succeeds and a checkpoint with the conflict restores', () => {
    const { h, aql, aqlId } = conflict({ 'kfd-map-failure': 'unwind' });
    expect(h.map(APP, aql, [GPU_A]).ret).toBe(E.EINVAL);
    expect(h.bo(aqlId).attachments).toEqual([{ vm: GPU_A, is_mapped: false }]);
    expect(mappedPages(h, APP, aqlId, GPU_A)).toEqual([]);
    h.must(h.restore(RESTORED, h.checkpoint(APP)));
    h.must(h.ioctl(APP, 'FREE_MEMORY_OF_GPU', { handle: aql }));
  });
});
