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

/** Apply every call of an action in place. */
export function applyAction(w: World, a: Action): void {
  // applyInPlace copies the arguments it hands the handler: the action's calls stay as they are.
  for (const c of a.calls) applyInPlace(w, c);
}

/** The run as a log: header, setup and the actions' calls, each with its result. */
export function runLog(model: WorldModel, actions: Action[]): string {
  const world = createWorld(model.header.topology, model.header.variants);
  const lines = [JSON.stringify(encodeHeader(model.header))];
  const record = (c: Call) => {
    const r: CallResult = applyInPlace(world, c);
    lines.push(formatRecord(c, r));
  };
  model.setup.forEach(record);
  for (const a of actions) a.calls.forEach(record);
  return `${lines.join('\n')}\n`;
}
