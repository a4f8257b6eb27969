/**
 * What the family event generators share (src/explore/families/*.ts): calls built from
 * log-form arguments, and fixed action lists in which an action may arm a fault site just
 * before its call (any site still armed is disarmed first, so each action starts clean).
 */
import '../../ioctls/all.js';
import { callDef } from '../../ioctls/registry.js';
import { decodeArgs } from '../../ioctls/schema.js';
import type { Call, FdRef, World } from '../../world/types.js';
import type { Action } from '../world-explorer.js';

export type Raw = Record<string, unknown>;

/** A call with log-form arguments (flag names, enum names, 0x strings), decoded by its schema. */
export function call(name: string, args: Raw, pid?: number, fd?: FdRef): Call {
  const def = callDef(name);
  if (!def) throw new Error(`no call ${name}`);
  return {
    ...(pid === undefined ? {} : { pid }),
    call: name,
    ...(fd === undefined ? {} : { fd }),
    args: decodeArgs(def.args, args, `${name}.args`),
  };
}

/** [name, call, args, optional fault [site, after, count?]] */
export type ActionSpec = [string, string, Raw, ([string, number] | [string, number, number])?];

/** `fault {site, count: 0}` for every site still armed in `w`. */
export function disarmAll(w: World): Call[] {
  return Object.entries(w.faults ?? {})
    .filter(([, f]) => f && f.count > 0)
    .map(([site]) => call('fault', { site, count: 0 }));
}

/** The same actions in every world, each starting with every armed fault disarmed. */
export function fixedActions(specs: ActionSpec[]): (w: World) => Action[] {
  return (w) => {
    const armed = disarmAll(w);
    return specs.map(([name, c, args, fault]) => ({
      name,
      calls: [
        ...armed,
        ...(fault
          ? [call('fault', { site: fault[0], after: fault[1], ...(fault[2] ? { count: fault[2] } : {}) })]
          : []),
        call(c, args),
      ],
    }));
  };
}

/** A one-GPU topology header as log headers give it (parseTopology fills the defaults). */
export const ONE_GPU = { gpu_id: 41953, render_minor: 128 } as const;

/** `n` GPUs: ONE_GPU first, then gpu_ids and render minors counting up (the `gpus` bound). */
export function gpus(n: number): { gpu_id: number; render_minor: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    gpu_id: ONE_GPU.gpu_id + i,
    render_minor: ONE_GPU.render_minor + i,
  }));
}
