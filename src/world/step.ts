/**
 * step(world, call) → { world, ret, out }: pure and deterministic (design "Layers" 3).
 *
 * The handler mutates an immer draft of the world; kernel partial effects (a
 * RESTORE that fails half-way, a MAP that fails on its third GPU) are kept, as the
 * kernel keeps them, because an errno is a return value, not a rollback.
 */
import { produce } from 'immer';
import { InputError } from '../errors.js';
import '../ioctls/all.js';
import { kfdIoctl } from '../ioctls/kfd/dispatch.js';
import { callDef, KernelReturn } from '../ioctls/registry.js';
import type { Call, StepResult, World } from './types.js';
import { taskOf } from './world.js';

function copyArgs(args: Record<string, unknown>): Record<string, unknown> {
  return structuredClone(args);
}

export function step(world: World, call: Call): StepResult {
  const def = callDef(call.call);
  if (!def) throw new InputError('call', 'a call gpucr models', call.call);
  if (def.needsPid && call.pid === undefined) throw new InputError('pid', `a pid for ${call.call}`, undefined);
  const kdata = copyArgs(call.args);
  let ret = 0;
  const next = produce(world, (w) => {
    const task = call.pid === undefined ? (undefined as never) : taskOf(w, call.pid);
    const k = { w, task, file: undefined, call };
    try {
      ret = def.kind === 'ioctl' && def.driver === 'kfd' ? kfdIoctl(k, def, kdata) : def.run(k, kdata);
    } catch (e) {
      if (e instanceof KernelReturn) ret = e.ret;
      else throw e;
    }
  });
  const out: Record<string, unknown> = {};
  for (const f of def.out) if (kdata[f] !== undefined) out[f] = kdata[f];
  return { world: next, ret, out };
}
