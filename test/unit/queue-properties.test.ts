/**
 * set_queue_properties_from_user (kfd_chardev.c), where spec §7.2 says only "inaccessible
 * ring/rptr/wptr/eop/ctx-save pointers → -EFAULT": the kernel checks
 * `access_ok(ring_base_address, sizeof(uint64_t))`, 8 bytes at the ring's base, and the read
 * and write pointers for `sizeof(uint32_t)`. It does not check the whole ring there (that is
 * kfd_queue_acquire_buffers' business, which the model does not do: docs/conformance.md).
 * Where exactly x86-64's access_ok puts the limit changed across kernels (addr + size ≤
 * TASK_SIZE_MAX before 6.10; the start alone against USER_PTR_MAX for small constant sizes
 * since), so these tests stay clear of the last bytes below TASK_SIZE_MAX.
 */
import { describe, expect, it } from 'vitest';
import { APP, E, GPU_A, Harness } from '../conformance/helpers.js';

/** TASK_SIZE_MAX on x86-64 (access_ok's limit for a 64-bit task). */
const TASK_SIZE_MAX = 0x00007ffffffff000n;
const hex = (v: bigint) => `0x${v.toString(16)}`;

describe('CREATE_QUEUE: what access_ok covers (kfd_chardev.c set_queue_properties_from_user)', () => {
  it('a ring base in user space is accepted, even when the ring would run past TASK_SIZE_MAX', () => {
    const h = new Harness();
    h.setupProcess(APP);
    // 2 KiB below the limit: the 4 KiB ring would end 2 KiB past it.
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { ring_base_address: hex(TASK_SIZE_MAX - 0x800n) }).ret).toBe(0);
  });

  it('a ring base past TASK_SIZE_MAX → -EFAULT', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { ring_base_address: hex(TASK_SIZE_MAX + 0x1000n) }).ret).toBe(
      E.EFAULT,
    );
  });
});
