/**
 * The reference toy model of the design: K BOs, each none → allocated → mapped →
 * exported, with events ALLOC / MAP / UNMAP / EXPORT / FREE per BO. Its 7 per-BO
 * edges are the ones that give SPIN's reference counts for the equivalent Promela
 * model (K = 10: 1,048,576 states, 18,350,081 transitions = 7·K·4^(K−1) plus SPIN's
 * initial transition):
 *
 *   ALLOC  none → allocated        MAP   allocated → mapped    UNMAP mapped → allocated
 *   EXPORT allocated → exported, mapped → exported
 *   FREE   allocated → none, exported → none
 *
 * The same machine serves three engines: XState's `xstate/graph` (the K-region
 * parallel machine), gpucr's explorer (the per-BO machine compiled into a table) and
 * SPIN (the Promela text of `toyPromela`).
 */
import { type AnyStateMachine, createMachine } from 'xstate';
import { compileMachine } from '../world/compiled.js';
import type { NumericModel } from './bfs.js';

export const TOY_STATES = ['none', 'allocated', 'mapped', 'exported'] as const;
export const TOY_EVENTS = ['ALLOC', 'MAP', 'UNMAP', 'EXPORT', 'FREE'] as const;

const boStates = {
  none: { on: { ALLOC: 'allocated' } },
  allocated: { on: { MAP: 'mapped', EXPORT: 'exported', FREE: 'none' } },
  mapped: { on: { UNMAP: 'allocated', EXPORT: 'exported' } },
  exported: { on: { FREE: 'none' } },
};

/** One toy BO. */
export const toyBoMachine = createMachine({ id: 'toy_bo', initial: 'none', states: boStates });

/** K toy BOs as parallel regions bo0 … bo{K−1}, with events ALLOC_i, MAP_i, … */
export function toyMachine(k: number): AnyStateMachine {
  const regions: Record<string, unknown> = {};
  for (let i = 0; i < k; i++) {
    const states: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(boStates)) {
      states[name] = {
        on: Object.fromEntries(Object.entries(def.on).map(([e, target]) => [`${e}_${i}`, target])),
      };
    }
    regions[`bo${i}`] = { initial: 'none', states };
  }
  return createMachine({ id: `toy_${k}`, type: 'parallel', states: regions } as never);
}

/** table[state * EVENTS + event] = next state, or -1 (from the compiled per-BO machine). */
function boTable(): Int8Array {
  const compiled = compileMachine(toyBoMachine);
  const table = new Int8Array(TOY_STATES.length * TOY_EVENTS.length).fill(-1);
  TOY_STATES.forEach((s, si) =>
    TOY_EVENTS.forEach((e, ei) => {
      const ev = { type: e };
      const choice = compiled.select(s, {}, ev);
      if (choice)
        table[si * TOY_EVENTS.length + ei] = TOY_STATES.indexOf(compiled.apply(s, {}, ev, choice).value as never);
    }),
  );
  return table;
}

/** The toy as a numeric model: 2 bits per BO, BO i in bits 2i..2i+1. */
export function toyModel(k: number): NumericModel {
  if (!Number.isInteger(k) || k < 1 || k > 26) throw new RangeError('the toy model takes 1 ≤ K ≤ 26');
  const table = boTable();
  const E = TOY_EVENTS.length;
  const pow = Array.from({ length: k }, (_, i) => 4 ** i);
  return {
    initial: () => 0,
    successors(state, emit) {
      for (let i = 0; i < k; i++) {
        const p = pow[i]!;
        const s = Math.floor(state / p) % 4;
        const base = s * E;
        for (let e = 0; e < E; e++) {
          const t = table[base + e]!;
          if (t >= 0) emit(i * E + e, state + (t - s) * p);
        }
      }
    },
    labelName: (label) => `${TOY_EVENTS[label % E]}_${Math.floor(label / E)}`,
  };
}

/** The equivalent Promela model for SPIN (one process choosing any enabled BO event). */
export function toyPromela(k: number): string {
  // Each option is one d_step, so that guard and update are one transition (no intermediate state).
  const lines = [`#define K ${k}`, 'byte bo[K];', 'active proctype toy() {', '  do'];
  for (let i = 0; i < k; i++) {
    lines.push(
      `  :: d_step { bo[${i}] == 0 -> bo[${i}] = 1 }`,
      `  :: d_step { bo[${i}] == 1 -> bo[${i}] = 2 }`,
      `  :: d_step { bo[${i}] == 2 -> bo[${i}] = 1 }`,
      `  :: d_step { bo[${i}] == 1 -> bo[${i}] = 3 }`,
      `  :: d_step { bo[${i}] == 2 -> bo[${i}] = 3 }`,
      `  :: d_step { bo[${i}] == 1 -> bo[${i}] = 0 }`,
      `  :: d_step { bo[${i}] == 3 -> bo[${i}] = 0 }`,
    );
  }
  lines.push('  od', '}');
  return `${lines.join('\n')}\n`;
}
