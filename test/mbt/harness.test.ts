/**
 * The model-based testing library itself (src/mbt): canonical serialization, coverage
 * bookkeeping, and that a path run fails when an adapter's claim about the kernel is wrong.
 */
import { describe, expect, it } from 'vitest';
import { pddMachine } from '../../machines/kfd/pdd.js';
import { processMachine } from '../../machines/kfd/process.js';
import { queueMachine } from '../../machines/kfd/queue.js';
import { Coverage, activeStatePaths, formatCoverageTable } from '../../src/mbt/coverage.js';
import { type Adapter, executePath, planPaths } from '../../src/mbt/run.js';
import {
  NotCanonicalError,
  canonicalKey,
  canonicalize,
  snapshotSerializer,
  withBigIntJson,
} from '../../src/mbt/serialize.js';
import { queueAdapter } from './adapters/queue.js';
import { KfdWorld } from './adapters/world.js';

describe('canonical serializer (design "XState traps")', () => {
  it('does not depend on object key order', () => {
    expect(canonicalKey('a', { x: 1, y: { b: 2, a: 1 } })).toBe(canonicalKey('a', { y: { a: 1, b: 2 }, x: 1 }));
  });

  it('encodes a bigint explicitly and never as the string with the same digits', () => {
    expect(canonicalize(123n)).toBe('123n');
    expect(canonicalize('123n')).toBe('"123n"');
    expect(canonicalize({ v: -5n })).toBe('{"v":-5n}');
    expect(canonicalize(1n)).not.toBe(canonicalize(1));
  });

  it('refuses Map, Set and non-finite numbers instead of collapsing states', () => {
    expect(() => canonicalize({ m: new Map() })).toThrow(NotCanonicalError);
    expect(() => canonicalize([new Set([1])])).toThrow(/value\[0\]: a Set/);
    expect(() => canonicalize(Number.NaN)).toThrow(NotCanonicalError);
  });

  it('drops undefined keys as JSON does and writes bytes as hex', () => {
    expect(canonicalize({ a: undefined, b: new Uint8Array([1, 255]) })).toBe('{"b":<01ff>}');
  });

  it('applies a per-machine abstraction to the context', () => {
    const ser = snapshotSerializer((c: { n: number }) => ({ n: Math.min(c.n, 2) }));
    expect(ser({ value: 's', context: { n: 3 } })).toBe(ser({ value: 's', context: { n: 7 } }));
    expect(ser({ value: 's', context: { n: 1 } })).not.toBe(ser({ value: 's', context: { n: 2 } }));
  });

  it('withBigIntJson restores BigInt.prototype afterwards', () => {
    expect(withBigIntJson(() => JSON.stringify({ a: 7n }))).toBe('{"a":"7n"}');
    expect(() => JSON.stringify({ a: 7n })).toThrow();
  });
});

describe('coverage', () => {
  it('enumerates every state node below the root, parallel regions included', () => {
    const cov = new Coverage(pddMachine);
    expect(cov.states.map((s) => s.path)).toEqual([
      'alive',
      'alive.vm',
      'alive.vm.noVm',
      'alive.vm.vmAcquired',
      'alive.vm.bound',
      'alive.queues',
      'alive.queues.running',
      'alive.queues.evicted',
      'destroyed',
    ]);
  });

  it('names each candidate of each on-entry, guarded alternatives by index', () => {
    const ids = new Coverage(pddMachine).transitions.map((t) => t.id);
    expect(ids).toContain('alive.queues.evicted|RESTORE_QUEUES|0');
    expect(ids).toContain('alive.queues.evicted|RESTORE_QUEUES|1');
    expect(ids).toContain('alive.vm.bound|BIND|0');
  });

  it('records a targetless transition without actions, which snapshot.can() does not see', () => {
    const cov = new Coverage(processMachine);
    const paused = processMachine.resolveState({
      value: { alive: { criu: 'paused', mmu: 'notifying' } },
      context: {
        pid: 1,
        xnack_enabled: false,
        queues_paused: true,
        block_mmu_notifications: false,
        evicted_bos: 0,
        signal_handle: 0n,
        signal_page: false,
        criu_svm_metadata: [],
      },
    });
    expect(paused.can({ type: 'PAUSE' })).toBe(false);
    expect(cov.recordStep(paused, { type: 'PAUSE' })).toEqual(['alive.criu.paused|PAUSE|0']);
    expect(cov.report().transitions.covered).toBe(1);
  });

  it('marks every ancestor of an active leaf', () => {
    expect(activeStatePaths({ alive: { vm: 'bound', queues: 'running' } }).sort()).toEqual(
      ['alive', 'alive.queues', 'alive.queues.running', 'alive.vm', 'alive.vm.bound'].sort(),
    );
  });

  it('formats one "machine | states | transitions" line per machine', () => {
    const cov = new Coverage(queueMachine);
    cov.recordState({ value: 'active' });
    const table = formatCoverageTable([cov.report()]);
    expect(table.split('\n')[0]).toMatch(/^machine\s+\| states\s+\| transitions$/);
    expect(table).toMatch(/kfd_queue \| 1\/3 \(33\.3%\) \| 0\/5 \(0%\)/);
    expect(table).toMatch(/missing: evicted, destroyed, .*active\|EVICT\|0/);
  });
});

describe('path execution against step()', () => {
  it('fails when a macro claims an effect the kernel does not have (DESTROY_QUEUE claimed to EVICT)', async () => {
    type Env = (typeof queueAdapter)['initialEnv'];
    const liar: Adapter<KfdWorld, Env> = {
      ...queueAdapter,
      name: 'lying kfd_queue adapter',
      macros: [
        queueAdapter.macros.find((m) => m.name === 'CREATE_QUEUE on A')!,
        {
          name: 'DESTROY_QUEUE (claimed to evict)',
          effect: ['EVICT'],
          when: (env: Env) => env.created,
          run: (w: KfdWorld) => w.ioctl('AMDKFD_IOC_DESTROY_QUEUE', { queue_id: 0 }),
        },
      ],
    };
    const plan = planPaths(liar);
    const path = plan.paths.find((p) => p.events.some((e) => e.type === 'EVICT'));
    expect(path).toBeDefined();
    await expect(executePath(plan, path!, new Coverage(queueMachine))).rejects.toThrow(/gone from the world/);
  });

  it('fails when a call returns an errno the macro did not expect', async () => {
    const liar = {
      ...queueAdapter,
      name: 'queue adapter without VMs',
      setup: () => new KfdWorld(),
    };
    const plan = planPaths(liar);
    await expect(executePath(plan, plan.paths[0]!, new Coverage(queueMachine))).rejects.toThrow(
      /CREATE_QUEUE returned -3/,
    );
  });
});
