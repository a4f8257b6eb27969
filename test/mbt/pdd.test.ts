/** Model-based test of kfd_pdd (machines/kfd/pdd.ts) through the handler layer. */
import { describe, expect, it } from 'vitest';
import type { PddContext } from '../../machines/kfd/pdd.js';
import { pddAdapter } from './adapters/pdd.js';
import { mbtSuite } from './adapters/suite.js';
import { ERRNO, GPU_B, KfdWorld } from './adapters/world.js';

mbtSuite([pddAdapter], { spec: '§6.1, §7.1, §7.2, §11.2' });

describe('kfd_pdd: every queue restore is paired with an eviction, so running has no RESTORE_QUEUES', () => {
  const evicted = (w: KfdWorld) => (w.world.objects[w.pddId(GPU_B)]!.context as PddContext).evicted;

  it('spec §5.3, §6.1: UNPAUSE without PROCESS_INFO is refused (-EINVAL) before restoring any queue', () => {
    const w = new KfdWorld();
    w.criu({ op: 'UNPAUSE' }, -ERRNO.EINVAL);
    expect(evicted(w)).toBe(0);
    expect(w.world.objects[w.pddId(GPU_B)]!.value).toEqual({ alive: { vm: 'noVm', queues: 'running' } });
  });

  it('spec §10.4 (5), §6.2: PROCESS_INFO twice + UNPAUSE once leaves the queues evicted; a second UNPAUSE → -EINVAL', () => {
    const w = new KfdWorld();
    w.criu({ op: 'PROCESS_INFO' });
    w.criu({ op: 'PROCESS_INFO' });
    expect(evicted(w)).toBe(2);
    w.criu({ op: 'UNPAUSE' });
    expect(evicted(w)).toBe(1);
    w.criu({ op: 'UNPAUSE' }, -ERRNO.EINVAL);
    expect(evicted(w)).toBe(1);
  });

  it('spec §5.5: the userptr restore worker restores queues only after a RESUME (no work queued otherwise)', () => {
    const w = new KfdWorld();
    expect(w.userptrWorker()).toBe(false);
    expect(evicted(w)).toBe(0);
  });
});
