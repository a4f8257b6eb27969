/**
 * The compiled transition form (src/world/compiled.ts) against XState's own
 * `transition`: on random event sequences of every KFD machine, both must agree on
 * which events are enabled, on the next state value and on the next context — for the
 * copying form (`transition`, `apply`) and for the send path that changes the context in
 * place (`advance`), which must also leave a refused event's context as it was.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, initialTransition, transition } from 'xstate';
import { KFD_SAMPLES, machineEventTypes } from '../../src/mbt/sample-events.js';
import { compileMachine } from '../../src/world/compiled.js';
import { MACHINES } from '../../src/world/objects.js';

interface Case {
  machine: AnyStateMachine;
  input: unknown;
  events: readonly { type: string }[];
}

/** Every KFD machine with each of its sample instances (src/mbt/sample-events.ts, shared with gpucr paths). */
const CASES: Record<string, Case> = Object.fromEntries(
  Object.entries(KFD_SAMPLES).flatMap(([kind, samples]) =>
    samples.map((sample) => [
      `${kind} (${sample.name})`,
      { machine: MACHINES[kind]!, input: sample.input, events: sample.events },
    ]),
  ),
);

/** XState's own answer: enabled (any transition data) and the next snapshot. */
function viaXState(machine: AnyStateMachine, value: unknown, context: unknown, event: { type: string }) {
  const snap = machine.resolveState({ value: value as never, context: context as never });
  const enabled = (machine.getTransitionData(snap as never, event as never)?.length ?? 0) > 0;
  const [next] = transition(machine, snap, event as never);
  return { enabled, value: next.value, context: next.context };
}

describe('the compiled transition form equals XState transition', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: random event sequences agree on enabledness, value and context`, () => {
      const compiled = compileMachine(c.machine);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: c.events.length - 1 }), { maxLength: 25 }), (picks) => {
          const [init] = initialTransition(c.machine, c.input as never);
          let state = compiled.initial(c.input);
          expect(state.value).toEqual(init.value);
          expect(state.context).toEqual(init.context);
          for (const i of picks) {
            const event = c.events[i]!;
            const ref = viaXState(c.machine, state.value, state.context, event);
            const choice = compiled.select(state.value, state.context, event);
            expect(choice !== null).toBe(ref.enabled);
            // Select and apply in one call gives the same answer.
            const fused = compiled.transition(state.value, state.context, event);
            expect(fused !== null).toBe(ref.enabled);
            // The send path, on a copy of the context it changes in place.
            const own = structuredClone(state.context);
            const advanced = compiled.advance(state.value, own, event);
            expect(advanced !== null).toBe(ref.enabled);
            if (!choice) {
              expect(own).toEqual(state.context);
              continue;
            }
            state = compiled.apply(state.value, state.context, event, choice);
            expect(state.value).toEqual(ref.value);
            expect(state.context).toEqual(ref.context);
            expect(fused).toEqual(state);
            expect(advanced).toEqual(state.value);
            expect(own).toEqual(state.context);
          }
        }),
        { numRuns: 300, seed: 0x6c7 },
      );
    });
  }

  it('the sample events exercise every event type of every machine', () => {
    for (const [name, c] of Object.entries(CASES))
      expect(new Set(c.events.map((e) => e.type)), name).toEqual(new Set(machineEventTypes(c.machine)));
  });

  it('a machine outside the compiled subset is refused when it is compiled', async () => {
    const { setup } = await import('xstate');
    const withEntry = setup({}).createMachine({
      id: 'x',
      initial: 'a',
      states: { a: { entry: () => {} } },
    });
    expect(() => compileMachine(withEntry)).toThrow(/outside the compiled subset/);
  });
});
