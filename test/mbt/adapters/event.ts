/**
 * Adapter for kfd_event (machines/kfd/event.ts): a SIGNAL event of the application.
 *
 *   SIGNAL   ← SET_EVENT (a SIGNAL event: event_can_be_cpu_signaled, §7.2); CRIU RESTORE of an
 *              event saved with signaled = 1 (kfd_criu_restore_event, §5.4 step 5)
 *   RESET    ← RESET_EVENT (also accepted, and a no-op, when not signaled)
 *   DESTROY  ← DESTROY_EVENT; exit
 * Two model instances: an event created by CREATE_EVENT (id 1, the first signal slot:
 * slot 0 is reserved, §5.1) and one re-created by RESTORE with its checkpointed id.
 */
import type { EventContext, EventEvent } from '../../../machines/kfd/event.js';
import { eventMachine } from '../../../machines/kfd/event.js';
import type { Adapter, Macro } from '../../../src/mbt/run.js';
import { APP, KfdWorld } from './world.js';

interface Env {
  created: boolean;
}

const SIGNAL = 0;
const RESTORED_ID = 5;

const input = (event_id: number): EventContext => ({
  pid: APP,
  event_id,
  type: SIGNAL,
  auto_reset: true,
  memory_exception_data: null,
  hw_exception_data: null,
});

const project = (c: EventContext) => ({ event_id: c.event_id, type: c.type, auto_reset: c.auto_reset });

function eventId(w: KfdWorld): number {
  const entry = Object.entries(w.task().events).find(([, id]) => id === w.subject);
  if (!entry) throw new Error('the event is gone');
  return Number(entry[0]);
}

const common: Macro<KfdWorld, Env>[] = [
  {
    name: 'SET_EVENT',
    effect: ['SIGNAL'],
    when: (env) => env.created,
    run: (w) => w.ioctl('AMDKFD_IOC_SET_EVENT', { event_id: eventId(w) }),
  },
  {
    name: 'RESET_EVENT',
    effect: ['RESET'],
    when: (env) => env.created,
    run: (w) => w.ioctl('AMDKFD_IOC_RESET_EVENT', { event_id: eventId(w) }),
  },
  {
    name: 'DESTROY_EVENT',
    effect: ['DESTROY'],
    when: (env) => env.created,
    run: (w) => w.ioctl('AMDKFD_IOC_DESTROY_EVENT', { event_id: eventId(w) }),
  },
  { name: 'exit', effect: ['DESTROY'], when: (env) => env.created, run: (w) => w.exit() },
];

const events: EventEvent[] = [{ type: 'SIGNAL' }, { type: 'RESET' }, { type: 'DESTROY' }];

export const eventAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_event (CREATE_EVENT)',
  machine: eventMachine,
  input: input(1),
  events,
  project,
  initialEnv: { created: true },
  setup: () => {
    const w = new KfdWorld();
    const out = w.ioctl('AMDKFD_IOC_CREATE_EVENT', { event_type: 'SIGNAL', auto_reset: 1 });
    w.subject = w.task().events[out.event_id as number];
    return w;
  },
  subject: (w) => w.subject,
  macros: common,
};

function restoreEvent(w: KfdWorld, signaled: number): void {
  w.restore({
    objects: [{ object_type: 1, user_handle: 0n, event_id: RESTORED_ID, auto_reset: 1, type: SIGNAL, signaled }],
  });
  w.subject = w.task().events[RESTORED_ID];
}

export const restoredEventAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_event (RESTORE)',
  machine: eventMachine,
  input: input(RESTORED_ID),
  events,
  project,
  initialEnv: { created: false },
  setup: () => new KfdWorld(),
  subject: (w) => w.subject,
  macros: [
    {
      name: 'CRIU_OP RESTORE (event, signaled = 0)',
      effect: [],
      when: (env) => !env.created,
      next: () => ({ created: true }),
      run: (w) => restoreEvent(w, 0),
    },
    {
      name: 'CRIU_OP RESTORE (event, signaled = 1)',
      effect: ['SIGNAL'],
      when: (env) => !env.created,
      next: () => ({ created: true }),
      run: (w) => restoreEvent(w, 1),
    },
    ...common,
  ],
};
