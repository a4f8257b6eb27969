/**
 * Applying explorer actions and writing a run of them as a log, shared by `gpucr fuzz`
 * and `--workers`: the same format as the explorer's counterexamples (header, the
 * setup calls, then every call of every action with its `ret`/`out`), which `gpucr
 * replay --check` reproduces.
 */
import { encodeHeader, formatRecord } from '../log/writer.js';
import { applyInPlace, type CallResult } from '../world/step.js';
import { createWorld } from '../world/world.js';
import type { Call, World } from '../world/types.js';
import type { Action, WorldModel } from './world-explorer.js';

/** A call with its own copy of the arguments (handlers write their outs into them). */
export function fresh(c: Call): Call {
  return { ...c, args: structuredClone(c.args) };
}

/** Apply every call of an action in place. */
export function applyAction(w: World, a: Action): void {
  for (const c of a.calls) applyInPlace(w, fresh(c));
}

/** The run as a log: header, setup and the actions' calls, each with its result. */
export function runLog(model: WorldModel, actions: Action[]): string {
  const world = createWorld(model.header.topology, model.header.variants);
  const lines = [JSON.stringify(encodeHeader(model.header))];
  const record = (c: Call) => {
    const f = fresh(c);
    const r: CallResult = applyInPlace(world, f);
    lines.push(formatRecord(f, r));
  };
  model.setup.forEach(record);
  for (const a of actions) a.calls.forEach(record);
  return `${lines.join('\n')}\n`;
}
