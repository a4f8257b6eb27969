/**
 * The `i915` family: a pinned kernel object and a user object of 2 pages across suspend
 * and resume with each fault site (docs/known-bugs.md: spec C.8).
 */
import type { Call, World } from '../../world/types.js';
import type { Action } from '../world-explorer.js';
import { type ActionSpec, call, fixedActions } from './common.js';

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

export function i915Family(): { setup: Call[]; actions: (w: World) => Action[] } {
  return {
    setup: [
      call('i915.create', { pages: 2, flags: ['PINNED'] }),
      call('i915.create', { pages: 2, flags: ['USER'] }),
      call('gpu_write', { obj: KERNEL, page: 1, value: 5 }),
      call('gpu_write', { obj: USER, page: 0, value: 6 }),
    ],
    actions: fixedActions(I915_ACTIONS),
  };
}
