/**
 * The event types of a machine, as model-based tests offer them: every event type the
 * machine has a transition for, without payload (the default sample events of
 * `describeModel`, `gpucr paths` and `modelPaths`).
 */
import type { AnyEventObject, AnyStateMachine } from 'xstate';
import { enumerateTransitions } from './coverage.js';

/** Event descriptors that are not one concrete event type (wildcards, XState's own events). */
function concreteEventType(type: string): boolean {
  return type !== '*' && !type.endsWith('.*') && !type.startsWith('xstate.') && type !== '';
}

/** Every event type the machine has a transition for (targetless ones included), sorted. */
export function machineEventTypes(machine: AnyStateMachine): string[] {
  return [...new Set(enumerateTransitions(machine).map((t) => t.event))].filter(concreteEventType).sort();
}

/** One event without payload per event type of the machine (describeModel's default sample events). */
export function payloadFreeEvents(machine: AnyStateMachine): AnyEventObject[] {
  return machineEventTypes(machine).map((type) => ({ type }));
}
