/**
 * Event generators for composed-world exploration, per driver family: the setup
 * that creates the objects, and the actions offered in every state. Injected faults
 * are nondeterministic choices: an action may arm a fault site just before its call;
 * any site still armed is disarmed first, so each action starts clean.
 */
import '../ioctls/all.js';
import { type Invariant, selectInvariants } from '../invariants/index.js';
import type { LogHeader } from '../log/reader.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs } from '../ioctls/schema.js';
import { parseTopology } from '../world/topology.js';
import type { Call, Variants, World } from '../world/types.js';
import { type Action, type WorldModel, worldModel } from './world-explorer.js';

type Raw = Record<string, unknown>;

function call(name: string, args: Raw): Call {
  const def = callDef(name);
  if (!def) throw new Error(`no call ${name}`);
  return { call: name, args: decodeArgs(def.args, args, 'args') };
}

/** [name, call, args, optional fault [site, after, count?]] */
type ActionSpec = [string, string, Raw, ([string, number] | [string, number, number])?];

function actions(specs: ActionSpec[]): (w: World) => Action[] {
  return (w) => {
    const armed = Object.entries(w.faults ?? {})
      .filter(([, f]) => f && (f as { count: number }).count > 0)
      .map(([site]) => call('fault', { site, count: 0 }));
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

const TT = 1;
const TTM_ACTIONS: ActionSpec[] = [
  ['populate', 'ttm.populate', { tt: TT }],
  ['unpopulate', 'ttm.unpopulate', { tt: TT }],
  ['write p0', 'gpu_write', { tt: TT, page: 0, value: 1 }],
  ['write p1', 'gpu_write', { tt: TT, page: 1, value: 2 }],
  ['backup', 'ttm.backup', { tt: TT }],
  ['backup purge', 'ttm.backup', { tt: TT, purge: true }],
  ['backup, page 1 fails', 'ttm.backup', { tt: TT }, ['ttm.backup_page', 1]],
  ['restore', 'ttm.restore', { tt: TT, interruptible: true }],
  ['restore, 1st copy fails', 'ttm.restore', { tt: TT, interruptible: true }, ['ttm.copy_page', 0]],
  ['restore, 2nd copy fails', 'ttm.restore', { tt: TT, interruptible: true }, ['ttm.copy_page', 1]],
  ['restore, 1st alloc fails', 'ttm.restore', { tt: TT, interruptible: true }, ['ttm.restore_alloc', 0]],
  ['clear_backed_up', 'ttm.clear_backed_up', { tt: TT }],
  ['swapout', 'ttm.swapout', { tt: TT }],
  ['swapin', 'ttm.swapin', { tt: TT }],
  ['fini', 'ttm.fini', { tt: TT }],
];

const KERNEL = 2;
const USER = 3;
const I915_ACTIONS: ActionSpec[] = [
  ['suspend', 'i915.suspend', {}],
  ['suspend, 1st populate fails', 'i915.suspend', {}, ['i915.populate', 0]],
  ['suspend, 1st copy fails', 'i915.suspend', {}, ['i915.copy', 0]],
  ['suspend, GT wedged', 'i915.suspend', {}, ['i915.gt_wedged', 0]],
  ['resume', 'i915.resume', {}],
  ['resume, populate fails', 'i915.resume', {}, ['i915.populate', 0]],
  ['resume, copy fails', 'i915.resume', {}, ['i915.copy', 0]],
  ['recover_region', 'i915.recover_region', {}],
  ['write kernel', 'gpu_write', { obj: KERNEL, page: 0, value: 7 }],
  ['write user', 'gpu_write', { obj: USER, page: 1, value: 8 }],
  ['unpin kernel', 'i915.unpin', { obj: KERNEL }],
  ['destroy kernel', 'i915.destroy', { obj: KERNEL }],
];

export const FAMILIES = ['ttm', 'i915'] as const;
export type Family = (typeof FAMILIES)[number];

/** The model of a family under the given variants, checking the named invariants (default: all). */
export function familyModel(family: Family, variants: Partial<Variants>, invariantNames: string[] = []): WorldModel {
  const header: LogHeader = { gpucr: 1, topology: parseTopology({ gpus: [] }, undefined), variants };
  const invariants: Invariant[] = selectInvariants(invariantNames);
  if (family === 'ttm') {
    const setup = [call('ttm.create', { num_pages: 2, caching: 'wc', backup: true })];
    return worldModel(header, setup, actions(TTM_ACTIONS), invariants);
  }
  const setup = [
    call('i915.create', { pages: 2, flags: ['PINNED'] }),
    call('i915.create', { pages: 2, flags: ['USER'] }),
    call('gpu_write', { obj: KERNEL, page: 1, value: 5 }),
    call('gpu_write', { obj: USER, page: 0, value: 6 }),
  ];
  return worldModel(header, setup, actions(I915_ACTIONS), invariants);
}
