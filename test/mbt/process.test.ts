/** Model-based test of kfd_process (machines/kfd/process.ts) through the handler layer. */
import { describe, expect, it } from 'vitest';
import { type ProcessContext, processMachine } from '../../machines/kfd/process.js';
import { Coverage } from '../../src/mbt/coverage.js';
import { processAdapter } from './adapters/process.js';
import { mbtSuite } from './adapters/suite.js';
import { ERRNO, KfdWorld } from './adapters/world.js';

mbtSuite([processAdapter], { spec: '§5, §6.1, §11.1' });

describe('kfd_process: only one RESTORE reaches criu_restore_bos', () => {
  it('spec §6.2, §5.4 step 3: a second RESTORE fails in criu_restore_devices, before criu_restore_bos could block again', () => {
    const w = new KfdWorld();
    w.restore({});
    const id = w.task().kfd_process!;
    expect(w.world.objects[id]!.value).toEqual({ alive: { criu: 'running', mmu: 'blocked' } });
    // Every pdd has a drm file now; nothing but teardown clears it (§6.1).
    w.restore({}, -ERRNO.EINVAL);
    expect(w.world.objects[id]!.value).toEqual({ alive: { criu: 'running', mmu: 'blocked' } });
    // RESUME is still accepted exactly once (§6.2 "RESUME is accepted once per RESTORE").
    w.resume();
    w.resume(-ERRNO.EINVAL);
  });

  it('so the machine has no BLOCK_MMU_NOTIFICATIONS transition out of blocked', () => {
    const cov = new Coverage(processMachine);
    const blocked = processMachine.resolveState({
      value: { alive: { criu: 'running', mmu: 'blocked' } },
      context: {
        pid: 1,
        xnack_enabled: false,
        queues_paused: false,
        block_mmu_notifications: true,
        evicted_bos: 0,
        signal_handle: 0n,
        signal_page: false,
        criu_svm_metadata: [],
      },
    });
    expect(cov.fired(blocked, { type: 'BLOCK_MMU_NOTIFICATIONS' })).toEqual([]);
  });
});

describe('kfd_process: RESUME refused for want of a RESTORE', () => {
  it('spec §5.5 step 4: amdgpu_amdkfd_criu_resume does evicted_bos++ before the block_mmu_notifications check, so a refused RESUME leaves it incremented', () => {
    const w = new KfdWorld();
    const id = w.task().kfd_process!;
    w.resume(-ERRNO.EINVAL);
    expect((w.world.objects[id]!.context as ProcessContext).evicted_bos).toBe(1);
  });
});
