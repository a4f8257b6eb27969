/**
 * Order-of-operations and layout statements of spec §3 and §5 (amd-criu.md) that
 * errnos-criu.test.ts does not assert: the MAX_GPU_INSTANCE mismatch of the BO privs,
 * the per-bucket order of criu_restore_devices, where block_mmu_notifications is set
 * inside criu_restore_bos, the signal handle of the first event record, and how RESUME
 * rewrites the saved SVM attributes. Every expectation is taken from the spec text
 * quoted next to it.
 */
import { describe, expect, it } from 'vitest';
import type { EventPriv, SvmRangePriv } from '../../src/criu/kfd-priv.js';
import {
  KFD_IOCTL_SVM_ATTR as ATTR,
  KFD_IOCTL_SVM_FLAG as FLAG,
  KFD_IOCTL_SVM_LOCATION as LOC,
  MAKE_HANDLE,
} from '../../src/uapi/index.js';
import { APP, buildApp, decodeCk, E, GPU_A, GPU_B, Harness, MiB, PAGE, RESTORED, VA, withPriv } from './helpers.js';

describe('spec §3: MAX_GPU_INSTANCE and the final size check', () => {
  /** An application with one GTT BO on GPU A and no object (num_objects 0). */
  function gttOnly(h: Harness) {
    h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA.gtt);
    return h.checkpoint(APP);
  }

  // §3: "`MAX_GPU_INSTANCE` is defined in `drivers/gpu/drm/amd/amdgpu/amdgpu.h`: it was **16** in
  // older kernels and is **64** in recent ones" … "Therefore `sizeof(kfd_criu_bo_priv_data)` is 80
  // (16) or 272 (64) bytes on x86-64 while `KFD_CRIU_PRIV_VERSION` stayed 1 — a checkpoint taken on
  // one kernel generation will fail the final `priv_offset != priv_data_size` check (-EINVAL) on
  // the other. [DERIVED, not tested]"
  it('spec §3 [DERIVED]: priv_data written with MAX_GPU_INSTANCE 16 and restored by a kernel with 64 → -EINVAL', () => {
    const h16 = new Harness({ variants: { max_gpu_instance: 16 } });
    const ck16 = gttOnly(h16);
    // §3 sizes: process priv 8, device priv 8, bo priv 80 with MAX_GPU_INSTANCE 16.
    expect(ck16.priv_data_size).toBe(BigInt(8 + 2 * 8 + 80));
    const h64 = new Harness();
    expect(h64.restore(RESTORED, ck16).ret).toBe(E.EINVAL);
    // Control: the same kernel generation restores it.
    expect(h16.restore(RESTORED, ck16).ret).toBe(0);
  });

  it('spec §3 [DERIVED]: priv_data written with MAX_GPU_INSTANCE 64 and restored by a kernel with 16 fails the final size check → -EINVAL (the BO itself was restored)', () => {
    const h64 = new Harness();
    const ck64 = gttOnly(h64);
    // §3 sizes: bo priv 272 with MAX_GPU_INSTANCE 64.
    expect(ck64.priv_data_size).toBe(BigInt(8 + 2 * 8 + 272));
    const h16 = new Harness({ variants: { max_gpu_instance: 16 } });
    expect(h16.restore(RESTORED, ck64).ret).toBe(E.EINVAL);
    // With num_objects 0 the 16-kernel reads a whole 80-byte BO priv (idr_handle and the
    // 0-terminated mapped_gpuids sit at the same offsets), restores the BO, and only the final
    // "priv_offset != priv_data_size" check (step 6: 104 ≠ 296) is left to fail.
    expect(Object.keys(h16.userBos(RESTORED, GPU_A)).map(Number)).toEqual([0]);
    // Control: the same kernel generation restores it.
    expect(h64.restore(RESTORED, ck64).ret).toBe(0);
  });
});

describe('spec §5.4 step 3: criu_restore_devices, per-bucket order', () => {
  type Dev = { user_gpu_id: number; actual_gpu_id: number; drm_fd: number };

  // §5.4 step 3: "per bucket i: `user_gpu_id == 0` → -EINVAL; `kfd_device_by_id(actual_gpu_id)` NULL
  // → -EINVAL; `kfd_get_process_device_data(dev, p)` NULL → -EINVAL; **`pdd->drm_file` already set →
  // -EINVAL** (new position, see below); `pdd->user_gpu_id = user_gpu_id`; `fget(drm_fd)` NULL → -EINVAL;"
  // §5.4: "Failure semantics: RESTORE has **no rollback**".
  // §6.1: "`pdd->user_gpu_id` | `= dev->id` at pdd creation; RESTORE sets checkpointed id".
  it('spec §5.4 step 3: pdd->user_gpu_id is set before fget(drm_fd); a RESTORE failing at fget leaves it changed (no rollback)', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const ck = h.checkpoint(APP);
    // Before RESTORE: user_gpu_id = dev->id.
    h.setupProcess(RESTORED, []);
    expect(h.pdd(RESTORED, GPU_B).user_gpu_id).toBe(GPU_B);
    expect(h.pdd(RESTORED, GPU_A).user_gpu_id).toBe(GPU_A);
    // Bucket 0: user id A onto actual GPU B, with a drm_fd that is not open (fget NULL).
    const r = h.restore(RESTORED, ck, {
      open: false,
      deviceMap: { [GPU_A]: GPU_B, [GPU_B]: GPU_A },
      edit: (a) => ((a.devices as Dev[])[0]!.drm_fd = 77),
    });
    expect(r.ret).toBe(E.EINVAL);
    expect(h.pdd(RESTORED, GPU_B).user_gpu_id).toBe(GPU_A);
    expect(h.pdd(RESTORED, GPU_B).drm_file).toBeNull();
    // The error is returned at bucket 0: bucket 1 (user B onto actual A) never ran.
    expect(h.pdd(RESTORED, GPU_A).user_gpu_id).toBe(GPU_A);
  });

  it('spec §5.4 step 3: the pdd->drm_file check precedes the user_gpu_id assignment; failing it leaves user_gpu_id unchanged', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const ck = h.checkpoint(APP);
    // RESTORED already has a VM on GPU B (pdd->drm_file set).
    h.setupProcess(RESTORED, [GPU_B]);
    const r = h.restore(RESTORED, ck, { open: false, deviceMap: { [GPU_A]: GPU_B, [GPU_B]: GPU_A } });
    expect(r.ret).toBe(E.EINVAL);
    expect(h.pdd(RESTORED, GPU_B).user_gpu_id).toBe(GPU_B);
  });
});

describe('spec §5.4 step 4: criu_restore_bos, where block_mmu_notifications is set', () => {
  // §5.4 step 4: "`criu_restore_bos`: * blob overflow → -EINVAL. *
  // **`amdgpu_amdkfd_block_mmu_notifications(p->kgd_process_info)`** ("Prevent MMU notifications until
  // stage-4 IOCTL (CRIU_RESUME) is received") — sets `process_info->block_mmu_notifications = true`. *
  // alloc/copy failures → -ENOMEM / -EFAULT."
  // §5.5 step 4: "if `!block_mmu_notifications` → **-EINVAL** … else `block_mmu_notifications = false`".
  it('spec §5.4 step 4: a BO-priv blob overflow (-EINVAL) is detected before block_mmu_notifications is set', () => {
    const h = new Harness();
    h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA.gtt);
    const ck = h.checkpoint(APP);
    // Process priv, both device privs, then 8 bytes of the first BO priv.
    const size = 8 + 2 * 8 + 8;
    const r = h.restore(RESTORED, ck, {
      edit: (a) => {
        a.priv_data = (a.priv_data as Uint8Array).subarray(0, size);
        a.priv_data_size = size;
      },
    });
    expect(r.ret).toBe(E.EINVAL);
    expect(h.proc(RESTORED).block_mmu_notifications).toBe(false);
    expect(h.resume(RESTORED).ret).toBe(E.EINVAL);
  });

  it('spec §5.4 step 4: a failing copy of the BO buckets (-EFAULT) happens after block_mmu_notifications is set', () => {
    const h = new Harness();
    h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA.gtt);
    h.alloc(APP, GPU_A, ['VRAM', 'WRITABLE'], MiB, VA.vram);
    const ck = h.checkpoint(APP);
    expect(ck.num_bos).toBe(2);
    // The bucket array is shorter than num_bos: copy_from_user faults.
    const r = h.restore(RESTORED, ck, { edit: (a) => (a.bos = (a.bos as object[]).slice(0, 1)) });
    expect(r.ret).toBe(E.EFAULT);
    expect(h.proc(RESTORED).block_mmu_notifications).toBe(true);
    // RESUME finds the flag set (§5.5 step 4) and clears it.
    expect(h.resume(RESTORED).ret).toBe(0);
    expect(h.proc(RESTORED).block_mmu_notifications).toBe(false);
  });
});

describe('spec §5.2.2: checkpointed events', () => {
  // §5.2.2: "The **first** event record carries `user_handle = p->signal_handle` if a signal page
  // exists (the handle of the user-allocated event-page BO, i.e. the `event_page_offset` passed to
  // the first CREATE_EVENT)."
  it('spec §5.2.2: the first event record carries user_handle = p->signal_handle (the event_page_offset of the first CREATE_EVENT)', () => {
    const h = new Harness();
    // GTT and VRAM are allocated before the event page, so its handle is not idr 0.
    const app = buildApp(h, { gtt: true, vram: true, events: true });
    expect(app.eventPage).toBe(MAKE_HANDLE(GPU_A, 2));
    expect(h.proc(APP).signal_handle).toBe(app.eventPage);
    const ck = h.checkpoint(APP);
    const events = decodeCk(ck).objects.filter((o) => o.object_type === 1) as EventPriv[];
    expect(events).toHaveLength(2);
    expect(events[0]!.user_handle).toBe(app.eventPage);
  });
});

describe('spec §5.5 step 3: kfd_criu_resume_svm', () => {
  /** A checkpoint of an application with one SVM range, whose saved attrs `edit` rewrites. */
  function svmCheckpoint(edit: (attrs: { type: number; value: number }[]) => void) {
    const h = new Harness();
    buildApp(h, { svm: true });
    const ck = h.checkpoint(APP);
    const d = decodeCk(ck);
    const svm = d.objects.find((o) => o.object_type === 2) as SvmRangePriv;
    edit(svm.attrs);
    return { h, ck: withPriv(ck, d), svm };
  }

  function setAttr(attrs: { type: number; value: number }[], type: number, value: number) {
    const a = attrs.find((x) => x.type === type);
    if (!a) throw new Error(`no saved attr ${type}`);
    a.value = value;
  }

  /** SVM SET_ATTR in RESTORED (after RESTORE, before RESUME) over the checkpointed range. */
  function preset(h: Harness, attrs: { type: string; value: number }[]) {
    h.must(h.ioctl(RESTORED, 'SVM', { start_addr: VA.svm, size: 2 * PAGE, op: 'SET_ATTR', attrs }));
  }

  // §5.5 step 3: "for each saved range: replace `PREFETCH_LOC == UNDEFINED` by a dummy `SET_FLAGS 0`;
  // append `CLR_FLAGS = ~set_flags`; `svm_range_set_attr(p, mm, start, size, num_attrs + 1, attrs)`".
  it('spec §5.5 step 3 [DERIVED]: a saved PREFETCH_LOC of UNDEFINED is replaced by a dummy SET_FLAGS 0, so RESUME does not reset the prefetch location', () => {
    const { h, ck } = svmCheckpoint((attrs) => setAttr(attrs, ATTR.PREFETCH_LOC, LOC.UNDEFINED));
    h.must(h.restore(RESTORED, ck));
    // The range exists in RESTORED before RESUME with a prefetch location of GPU B.
    preset(h, [{ type: 'PREFETCH_LOC', value: GPU_B }]);
    expect(h.svmRanges(RESTORED).map((r) => r.prefetch_loc)).toEqual([GPU_B]);
    expect(h.resume(RESTORED).ret).toBe(0);
    // Had PREFETCH_LOC UNDEFINED been passed on, the location would now be UNDEFINED.
    expect(h.svmRanges(RESTORED).map((r) => r.prefetch_loc)).toEqual([GPU_B]);

    // Control: a saved PREFETCH_LOC that is not UNDEFINED is replayed as is.
    const c = svmCheckpoint((attrs) => setAttr(attrs, ATTR.PREFETCH_LOC, GPU_A));
    c.h.must(c.h.restore(RESTORED, c.ck));
    preset(c.h, [{ type: 'PREFETCH_LOC', value: GPU_B }]);
    expect(c.h.resume(RESTORED).ret).toBe(0);
    expect(c.h.svmRanges(RESTORED).map((r) => r.prefetch_loc)).toEqual([GPU_A]);
  });

  it('spec §5.5 step 3 [DERIVED]: the appended CLR_FLAGS = ~set_flags leaves the range with exactly the saved SET_FLAGS', () => {
    const saved = FLAG.HOST_ACCESS | FLAG.GPU_RO;
    const { h, ck } = svmCheckpoint((attrs) => {
      setAttr(attrs, ATTR.SET_FLAGS, saved);
      setAttr(attrs, ATTR.PREFETCH_LOC, LOC.UNDEFINED);
    });
    h.must(h.restore(RESTORED, ck));
    // Before RESUME the range carries flags outside the saved set.
    preset(h, [{ type: 'SET_FLAGS', value: FLAG.GPU_EXEC | FLAG.COHERENT }]);
    expect(h.svmRanges(RESTORED)[0]!.flags & FLAG.GPU_EXEC).toBe(FLAG.GPU_EXEC);
    expect(h.resume(RESTORED).ret).toBe(0);
    // SET_FLAGS saved, the dummy SET_FLAGS 0, then CLR_FLAGS ~saved: (x | saved) & saved = saved.
    expect(h.svmRanges(RESTORED).map((r) => r.flags)).toEqual([saved]);
  });
});
