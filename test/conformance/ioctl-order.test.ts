/**
 * The order of the checks of spec §7.1 / §7.2 where it decides the errno: each call
 * breaks two conditions at once, and the spec's order says which errno wins. Also the
 * CREATE_QUEUE ring_size rules (0 accepted, small rings clamped) of §7.2.
 * The single-condition errnos are in errnos-ioctls.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MAKE_HANDLE } from '../../src/uapi/index.js';
import { APP, E, GPU_A, GPU_B, Harness, PAGE, svmRangeOnA, VA } from './helpers.js';

const NO_GPU = 0x7777;

describe('spec §7.1 / §7.2: CREATE_EVENT event page bind', () => {
  // §7.1: "Callers: … ALLOC / MAP / IMPORT / SET_SCRATCH_BACKING_VA / kfd_kmap_event_page return `PTR_ERR`."
  // §7.1 step 2: "`!pdd->drm_priv` → `ERR_PTR(-ENODEV)` (**VM not acquired yet** …)"
  // §5.4 step 5 EVENT, the order inside kfd_kmap_event_page: "signal page already set → -EINVAL;
  //   pdd for `GET_GPU_ID(user_handle)` NULL → -EINVAL; bind error; `translate_handle` NULL → -EINVAL"
  it('spec §7.1, §7.2 CREATE_EVENT: an event page handle on a GPU whose pdd has no VM → -ENODEV from the bind of kfd_kmap_event_page (the bind precedes the BO lookup)', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    // GPU B has a pdd but no VM; no BO can exist there, so the BO lookup would fail too.
    const onB = { event_page_offset: MAKE_HANDLE(GPU_B, 0), event_type: 'SIGNAL', auto_reset: 1 };
    expect(h.ioctl(APP, 'CREATE_EVENT', onB).ret).toBe(E.ENODEV);
    expect(h.proc(APP).signal_page).toBe(false);
    expect(h.proc(APP).signal_handle).toBe(0n);
    expect(h.task(APP).events).toEqual({});
    // Once bound, the same handle reaches the BO lookup ("Can't find BO" → -EINVAL) …
    h.must(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 5, gpu_id: GPU_B }));
    expect(h.ioctl(APP, 'CREATE_EVENT', onB).ret).toBe(E.EINVAL);
    // … and with the BO allocated it becomes the signal page.
    const page = h.alloc(APP, GPU_B, ['GTT', 'WRITABLE'], PAGE, VA.eventPage);
    expect(page).toBe(onB.event_page_offset);
    expect(h.ioctl(APP, 'CREATE_EVENT', onB).ret).toBe(0);
    expect(h.proc(APP).signal_handle).toBe(page);
  });
});

describe('spec §7.2: ALLOC_MEMORY_OF_GPU check order', () => {
  // §7.2 ALLOC: "`size == 0` → -EINVAL; (CONFIG_HSA_AMD_SVM) GPU VA range overlaps an SVM range
  // (unless VRAM with `va_addr == 0`) → **-EADDRINUSE**; USERPTR CPU range overlaps SVM → -EADDRINUSE;
  // pdd NULL → -EINVAL; PUBLIC+VRAM on a non-large-BAR device → -EINVAL; bind error → PTR_ERR;
  // DOORBELL: `size != kfd_doorbell_process_slice()` → -EINVAL, no process doorbells → -ENOMEM;
  // MMIO_REMAP: `size != PAGE_SIZE` → -EINVAL, …"
  const alloc = (h: Harness, raw: Record<string, unknown>) =>
    h.ioctl(APP, 'ALLOC_MEMORY_OF_GPU', { gpu_id: GPU_A, flags: ['GTT'], size: PAGE, va_addr: VA.gtt, ...raw });

  it('spec §7.2 ALLOC: PUBLIC VRAM on a GPU without large BAR is checked before the bind — on a GPU with no VM → -EINVAL, not -ENODEV', () => {
    const h = new Harness({ gpuB: { large_bar: false } });
    h.setupProcess(APP, [GPU_A]);
    expect(alloc(h, { gpu_id: GPU_B, flags: ['VRAM', 'PUBLIC'], va_addr: VA.vram }).ret).toBe(E.EINVAL);
    expect(h.pdd(APP, GPU_B).runtime_inuse).toBe(false);
    // Without PUBLIC the same call reaches the bind.
    expect(alloc(h, { gpu_id: GPU_B, flags: ['VRAM'], va_addr: VA.vram }).ret).toBe(E.ENODEV);
  });

  it('spec §7.2 ALLOC: the DOORBELL size check comes after the bind — a wrong size on a GPU with no VM → -ENODEV, not -EINVAL', () => {
    const h = new Harness({ gpuB: { doorbell_slice_size: 8192 } });
    h.setupProcess(APP, [GPU_A]);
    expect(alloc(h, { gpu_id: GPU_B, flags: ['DOORBELL'], size: PAGE, va_addr: VA.doorbell }).ret).toBe(E.ENODEV);
    expect(Object.keys(h.userBos(APP, GPU_B))).toHaveLength(0);
    // Once bound, the size check is reached.
    h.must(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 5, gpu_id: GPU_B }));
    expect(alloc(h, { gpu_id: GPU_B, flags: ['DOORBELL'], size: PAGE, va_addr: VA.doorbell }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 ALLOC: the MMIO_REMAP size check comes after the bind — a wrong size on a GPU with no VM → -ENODEV, not -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    expect(alloc(h, { gpu_id: GPU_B, flags: ['MMIO_REMAP'], size: 2 * PAGE, va_addr: VA.mmio }).ret).toBe(E.ENODEV);
    expect(Object.keys(h.userBos(APP, GPU_B))).toHaveLength(0);
    h.must(h.ioctl(APP, 'ACQUIRE_VM', { drm_fd: 5, gpu_id: GPU_B }));
    expect(alloc(h, { gpu_id: GPU_B, flags: ['MMIO_REMAP'], size: 2 * PAGE, va_addr: VA.mmio }).ret).toBe(E.EINVAL);
  });

  it('spec §7.2 ALLOC: the SVM overlap checks (-EADDRINUSE) come before the pdd lookup (-EINVAL) and the bind (-ENODEV)', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    svmRangeOnA(h, APP);
    // GPU VA overlap + gpu_id with no pdd.
    expect(alloc(h, { gpu_id: NO_GPU, va_addr: VA.svm }).ret).toBe(E.EADDRINUSE);
    // USERPTR CPU range overlap + gpu_id with no pdd.
    expect(
      alloc(h, { gpu_id: NO_GPU, flags: ['USERPTR'], va_addr: VA.userptr, mmap_offset: VA.svm + BigInt(PAGE) }).ret,
    ).toBe(E.EADDRINUSE);
    // GPU VA overlap + GPU without VM.
    expect(alloc(h, { gpu_id: GPU_B, va_addr: VA.svm }).ret).toBe(E.EADDRINUSE);
    // Without the overlap, the same calls stop at the pdd lookup and at the bind.
    expect(alloc(h, { gpu_id: NO_GPU }).ret).toBe(E.EINVAL);
    expect(alloc(h, { gpu_id: GPU_B }).ret).toBe(E.ENODEV);
  });
});

describe('spec §7.2: CREATE_QUEUE ring_size and check order', () => {
  // §7.2 CREATE_QUEUE: "property validation: `(queue_percentage & 0xFF) > 100` → -EINVAL; priority > 15 → -EINVAL;
  // ring_size not power of two (and ≠0) → -EINVAL (ring smaller than `KFD_MIN_QUEUE_RING_SIZE` is clamped);
  // inaccessible ring/rptr/wptr/eop/ctx-save pointers → -EFAULT; unknown queue_type → -ENOTSUPP;
  // pdd NULL → -EINVAL; bind error → -ESRCH; …"

  it('spec §7.2 CREATE_QUEUE: ring_size 0 is accepted (the power-of-two check excludes 0)', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const r = h.createQueue(APP, GPU_A, 'COMPUTE', { ring_size: 0 });
    expect(r.ret).toBe(0);
    expect(h.queueActive(APP, r.out.queue_id as number)).toBe(true);
  });

  // The spec gives no value for KFD_MIN_QUEUE_RING_SIZE, so the test only states what a clamp
  // to a minimum m means: the queue's ring size (q_size, §3 queue priv) is max(ring_size, m),
  // with m > 0 since ring_size 0 is smaller than it. [DERIVED]
  it('spec §7.2 CREATE_QUEUE [DERIVED]: a ring smaller than KFD_MIN_QUEUE_RING_SIZE is clamped — q_size = max(ring_size, m) with m the q_size of ring_size 0, m > 0', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const qSize = (ring: number): bigint => {
      const r = h.must(h.createQueue(APP, GPU_A, 'COMPUTE', { ring_size: ring }));
      return h.queue(APP, r.out.queue_id as number).q_size;
    };
    const m = qSize(0);
    expect(m).toBeGreaterThan(0n);
    for (let shift = 0; shift <= 20; shift++) {
      const ring = 2 ** shift;
      expect(qSize(ring)).toBe(BigInt(ring) > m ? BigInt(ring) : m);
    }
  });

  it('spec §7.2 CREATE_QUEUE: the property checks come before the bind — a GPU with no VM gets -EINVAL / -EFAULT / -ENOTSUPP, not -ESRCH', () => {
    const h = new Harness();
    h.setupProcess(APP, [GPU_A]);
    expect(h.createQueue(APP, GPU_B, 'COMPUTE', { queue_percentage: 101 }).ret).toBe(E.EINVAL);
    expect(h.createQueue(APP, GPU_B, 'COMPUTE', { queue_priority: 16 }).ret).toBe(E.EINVAL);
    expect(h.createQueue(APP, GPU_B, 'COMPUTE', { ring_size: 3000 }).ret).toBe(E.EINVAL);
    expect(h.createQueue(APP, GPU_B, 'COMPUTE', { read_pointer_address: '0xffff888000000000' }).ret).toBe(E.EFAULT);
    expect(h.createQueue(APP, GPU_B, 9 as never).ret).toBe(E.ENOTSUPP);
    expect(h.task(APP).queues).toEqual({});
    expect(h.pdd(APP, GPU_B).runtime_inuse).toBe(false);
    // With valid properties the same GPU fails in the bind.
    expect(h.createQueue(APP, GPU_B).ret).toBe(E.ESRCH);
  });

  it('spec §7.2 CREATE_QUEUE: the property checks come before the pdd lookup — a gpu_id with no pdd gets -EFAULT / -ENOTSUPP, not -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, NO_GPU, 'COMPUTE', { write_pointer_address: '0xffff888000000000' }).ret).toBe(E.EFAULT);
    expect(h.createQueue(APP, NO_GPU, 'COMPUTE', { ring_base_address: '0xffff888000000000' }).ret).toBe(E.EFAULT);
    expect(h.createQueue(APP, NO_GPU, 9 as never).ret).toBe(E.ENOTSUPP);
    expect(h.task(APP).queues).toEqual({});
    expect(h.createQueue(APP, NO_GPU).ret).toBe(E.EINVAL);
  });
});
