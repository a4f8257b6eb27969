/**
 * Adapters for kfd_queue (machines/kfd/queue.ts): a COMPUTE_AQL queue on GPU A, created
 * by CREATE_QUEUE, or re-created by CRIU RESTORE.
 *
 *   EVICT    ← CRIU PROCESS_INFO when the pdd was not evicted (evict_process_queues: only the
 *              first eviction takes the queues off the hardware, §6.1); a queue created while
 *              its pdd is evicted (CREATE_QUEUE, or RESTORE which evicts first, §5.4 step 1)
 *   RESTORE  ← the call that drops the pdd's last eviction: CRIU UNPAUSE (§5.3), or the
 *              userptr restore worker after RESUME (§5.5)
 *   SET_GWS  ← RESTORE of a queue saved with gws = 1 (pqm_set_gws, §5.4 step 5)
 *   DESTROY  ← DESTROY_QUEUE; exit
 * The environment tracks qpd->evicted of GPU A's pdd (0..2), queues_paused, and the
 * process's RESTORE/RESUME stage.
 */
import type { QueueContext, QueueEvent } from '../../../machines/kfd/queue.js';
import { queueMachine } from '../../../machines/kfd/queue.js';
import type { Adapter, Macro } from '../../../src/mbt/run.js';
import { createQueueArgs, sampleQueueContext, sampleQueuePriv } from '../../../src/mbt/sample-queue.js';
import { APP, GPU_A, GPU_B, KfdWorld, type Mmu, resumeMacro } from './world.js';

interface Env {
  created: boolean;
  /** qpd->evicted of GPU A's pdd. */
  evicted: number;
  /** kfd_process.queues_paused */
  paused: boolean;
  /** The process's mmu region: RESTORE blocks, RESUME queues the userptr worker. */
  mmu: Mmu;
}

function createQueue(w: KfdWorld): void {
  const out = w.ioctl('AMDKFD_IOC_CREATE_QUEUE', createQueueArgs(GPU_A));
  w.subject = w.task().queues[out.queue_id as number];
}

const input = sampleQueueContext(APP, GPU_A);

const project = (c: QueueContext) => ({
  gpu_id: c.gpu_id,
  queue_id: c.queue_id,
  type: c.type,
  format: c.format,
  q_address: c.q_address,
  q_size: c.q_size,
  priority: c.priority,
  gws: c.gws,
});

/** Eviction, restore and destruction: the same calls for both instances. */
const common: Macro<KfdWorld, Env>[] = [
  {
    name: 'CRIU_OP PROCESS_INFO (first eviction)',
    effect: ['EVICT'],
    when: (env) => env.created && env.evicted === 0,
    next: (env) => ({ ...env, evicted: 1, paused: true }),
    run: (w) => w.criu({ op: 'PROCESS_INFO' }),
  },
  {
    name: 'CRIU_OP PROCESS_INFO (queue already evicted or not created)',
    effect: [],
    when: (env) => (!env.created || env.evicted > 0) && env.evicted < 2,
    next: (env) => ({ ...env, evicted: env.evicted + 1, paused: true }),
    run: (w) => w.criu({ op: 'PROCESS_INFO' }),
  },
  {
    name: 'CRIU_OP UNPAUSE (last eviction)',
    effect: ['RESTORE'],
    when: (env) => env.created && env.paused && env.evicted === 1,
    next: (env) => ({ ...env, evicted: 0, paused: false }),
    run: (w) => w.criu({ op: 'UNPAUSE' }),
  },
  {
    name: 'CRIU_OP UNPAUSE (still evicted after it, or no queue yet)',
    effect: [],
    when: (env) => env.paused && (env.evicted > 1 || !env.created),
    next: (env) => ({ ...env, evicted: env.evicted - 1, paused: false }),
    run: (w) => w.criu({ op: 'UNPAUSE' }),
  },
  {
    name: 'DESTROY_QUEUE',
    effect: ['DESTROY'],
    when: (env) => env.created,
    run: (w) => w.ioctl('AMDKFD_IOC_DESTROY_QUEUE', { queue_id: 0 }),
  },
  { name: 'exit', effect: ['DESTROY'], when: (env) => env.created, run: (w) => w.exit() },
];

const events: QueueEvent[] = [{ type: 'EVICT' }, { type: 'RESTORE' }, { type: 'SET_GWS' }, { type: 'DESTROY' }];

export const queueAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_queue (CREATE_QUEUE)',
  machine: queueMachine,
  input,
  events,
  project,
  initialEnv: { created: false, evicted: 0, paused: false, mmu: 'notifying' },
  setup: () => {
    const w = new KfdWorld();
    w.acquireVm(GPU_A);
    w.acquireVm(GPU_B);
    return w;
  },
  subject: (w) => w.subject,
  macros: [
    {
      name: 'CREATE_QUEUE on A',
      effect: [],
      when: (env) => !env.created && env.evicted === 0,
      next: (env) => ({ ...env, created: true }),
      run: createQueue,
    },
    {
      name: 'CREATE_QUEUE on A while the pdd is evicted',
      effect: ['EVICT'],
      when: (env) => !env.created && env.evicted > 0,
      next: (env) => ({ ...env, created: true }),
      run: createQueue,
    },
    ...common,
  ],
};

function restoreQueue(w: KfdWorld, gws: number): void {
  w.restore({ objects: [sampleQueuePriv(GPU_A, gws)] });
  w.subject = w.task().queues[0];
}

export const restoredQueueAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_queue (RESTORE)',
  machine: queueMachine,
  input,
  events,
  project,
  initialEnv: { created: false, evicted: 0, paused: false, mmu: 'notifying' },
  setup: () => new KfdWorld(),
  subject: (w) => w.subject,
  macros: [
    {
      name: 'CRIU_OP RESTORE (queue)',
      effect: ['EVICT'],
      when: (env) => !env.created && env.evicted === 0,
      next: (env) => ({ ...env, created: true, evicted: 1, mmu: 'blocked' }),
      run: (w) => restoreQueue(w, 0),
    },
    {
      name: 'CRIU_OP RESTORE (queue with gws = 1)',
      effect: ['EVICT', 'SET_GWS'],
      when: (env) => !env.created && env.evicted === 0,
      next: (env) => ({ ...env, created: true, evicted: 1, mmu: 'blocked' }),
      run: (w) => restoreQueue(w, 1),
    },
    resumeMacro<Env>(),
    {
      name: 'kfd.restore_userptr_worker (last eviction)',
      effect: ['RESTORE'],
      when: (env) => env.mmu === 'pending' && env.evicted === 1,
      next: (env) => ({ ...env, mmu: 'notifying', evicted: 0 }),
      run: (w) => w.queuedUserptrWorker(),
    },
    {
      name: 'kfd.restore_userptr_worker (still evicted after it)',
      effect: [],
      when: (env) => env.mmu === 'pending' && env.evicted > 1,
      next: (env) => ({ ...env, mmu: 'notifying', evicted: env.evicted - 1 }),
      run: (w) => w.queuedUserptrWorker(),
    },
    ...common,
  ],
};
