/**
 * CREATE_QUEUE where the kernel source settles what spec §7.2 leaves open.
 *
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
  it('spec §7.2 CREATE_QUEUE (access_ok of the ring base): a ring base in user space is accepted, even when the ring would run past TASK_SIZE_MAX', () => {
    const h = new Harness();
    h.setupProcess(APP);
    // 2 KiB below the limit: the 4 KiB ring would end 2 KiB past it.
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { ring_base_address: hex(TASK_SIZE_MAX - 0x800n) }).ret).toBe(0);
  });

  it('spec §7.2 CREATE_QUEUE: a ring base past TASK_SIZE_MAX → -EFAULT', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(h.createQueue(APP, GPU_A, 'COMPUTE', { ring_base_address: hex(TASK_SIZE_MAX + 0x1000n) }).ret).toBe(
      E.EFAULT,
    );
  });
});

/**
 * pqm_create_queue (kfd_process_queue_manager.c): the device's queue count (max_queues, 127
 * without HWS-less GFX 9.4.3+) is checked before a queue id is taken, and a process whose
 * 1024 queue ids (KFD_MAX_NUM_OF_QUEUES_PER_PROCESS) are all taken gets -ENOMEM from
 * find_available_queue_slot ("Cannot open more queues for process"). Reaching 1024 needs more
 * than eight GPUs at 127 queues each.
 */
describe('pqm_create_queue: the device limit, then the process queue ids', () => {
  it('spec §7.2 CREATE_QUEUE, pqm_create_queue (-ENOSPC queue count, -ENOMEM): nine GPUs, 8 × 127 + 8 queues take every id; a full device is -ENOSPC, another -ENOMEM', () => {
    const ids = Array.from({ length: 9 }, (_, i) => 0x1000 + i);
    const h = new Harness({ gpus: ids.map((gpu_id, i) => ({ gpu_id, render_minor: 128 + i })) });
    h.setupProcess(APP, ids);
    for (const g of ids.slice(0, 8)) for (let i = 0; i < 127; i++) h.must(h.createQueue(APP, g));
    for (let i = 0; i < 8; i++) h.must(h.createQueue(APP, ids[8]!));
    expect(Object.keys(h.task(APP).queues)).toHaveLength(1024);
    // The first GPU is at its limit: that check comes first, whatever the ids.
    expect(h.createQueue(APP, ids[0]!).ret).toBe(E.ENOSPC);
    // The last GPU has room (8 queues), but the process has no queue id left.
    expect(h.createQueue(APP, ids[8]!).ret).toBe(E.ENOMEM);
  });
});
