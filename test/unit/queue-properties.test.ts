/**
 * set_queue_properties_from_user (kfd_chardev.c), where spec §7.2 says only "inaccessible
 * ring/rptr/wptr/eop/ctx-save pointers → -EFAULT": the kernel checks
 * `access_ok(ring_base_address, sizeof(uint64_t))`, 8 bytes at the ring's base, and the read
 * and write pointers for `sizeof(uint32_t)`. It does not check the whole ring there (that is
 * kfd_queue_acquire_buffers' business, which the model does not do: docs/conformance.md).
 */
import { describe, expect, it } from 'vitest';
import { APP, E, GPU_A, Harness } from '../conformance/helpers.js';

/** TASK_SIZE_MAX on x86-64 (access_ok's limit for a 64-bit task). */
const TASK_SIZE_MAX = 0x00007ffffffff000n;
const hex = (v: bigint) => `0x${v.toString(16)}`;

describe('CREATE_QUEUE: what access_ok covers (kfd_chardev.c set_queue_properties_from_user)', () => {
  it('a ring base whose first 8 bytes are in user space is accepted, even if the ring runs past TASK_SIZE_MAX', () => {
    const h = new Harness();
    h.setupProcess(APP);
    // 8 bytes below the limit: access_ok holds; the 4 KiB ring would end 4088 bytes past it.
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { ring_base_address: hex(TASK_SIZE_MAX - 8n) }).ret).toBe(0);
  });

  it('a ring base with fewer than 8 bytes below TASK_SIZE_MAX → -EFAULT', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { ring_base_address: hex(TASK_SIZE_MAX - 4n) }).ret).toBe(E.EFAULT);
  });

  it('the read pointer is checked for 4 bytes (sizeof(uint32_t))', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { read_pointer_address: hex(TASK_SIZE_MAX - 4n) }).ret).toBe(0);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { read_pointer_address: hex(TASK_SIZE_MAX - 2n) }).ret).toBe(E.EFAULT);
  });
});
