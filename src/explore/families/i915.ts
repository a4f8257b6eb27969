/**
 * The `i915` family: a pinned kernel object and a user object (the `bos` bound: user
 * objects) of 2 pages each (the `pages` bound) across suspend and resume with each fault
 * site (docs/known-bugs.md: spec C.8).
 */
import type { Call, World } from '../../world/types.js';
import type { Action } from '../world-explorer.js';
import { type ActionSpec, call, fixedActions } from './common.js';
import { type Bounds, boundOf } from './bounds.js';

const KERNEL = 2;
/** The first user object; the others follow (i915.create numbers objects in order). */
const USER = 3;
const userName = (i: number) => (i === 0 ? 'user' : `user ${i + 1}`);
/** Writes of user object i: pages 1 to pages - 1 (page 0 when it has one page), the first unnamed. */
const userWrites = (i: number, pages: number): ActionSpec[] =>
  (pages === 1 ? [0] : Array.from({ length: pages - 1 }, (_, p) => p + 1)).map((page, j) => [
    `write ${userName(i)}${j === 0 ? '' : ` p${page}`}`,
    'gpu_write',
    { obj: USER + i, page, value: 8 + i },
  ]);
const i915Actions = (users: number, pages: number): ActionSpec[] => [
  ['suspend', 'i915.suspend', {}],
  ['suspend, 1st populate fails', 'i915.suspend', {}, ['i915.populate', 0]],
  ['suspend, 1st copy fails', 'i915.suspend', {}, ['i915.copy', 0]],
  ['suspend, GT wedged', 'i915.suspend', {}, ['i915.gt_wedged', 0]],
  ['resume', 'i915.resume', {}],
  ['resume, populate fails', 'i915.resume', {}, ['i915.populate', 0]],
  ['resume, copy fails', 'i915.resume', {}, ['i915.copy', 0]],
  ['recover_region', 'i915.recover_region', {}],
  ['write kernel', 'gpu_write', { obj: KERNEL, page: 0, value: 7 }],
  ...Array.from({ length: users }, (_, i) => userWrites(i, pages)).flat(),
  ['unpin kernel', 'i915.unpin', { obj: KERNEL }],
  ['destroy kernel', 'i915.destroy', { obj: KERNEL }],
];

export function i915Family(bounds: Bounds = {}): { setup: Call[]; actions: (w: World) => Action[] } {
  const users = boundOf('i915', bounds, 'bos')!;
  const pages = boundOf('i915', bounds, 'pages')!;
  const creates = Array.from({ length: users }, () => call('i915.create', { pages, flags: ['USER'] }));
  return {
    setup: [
      call('i915.create', { pages, flags: ['PINNED'] }),
      ...creates,
      call('gpu_write', { obj: KERNEL, page: pages - 1, value: 5 }),
      ...creates.map((_, i) => call('gpu_write', { obj: USER + i, page: 0, value: 6 + i })),
    ],
    actions: fixedActions(i915Actions(users, pages)),
  };
}
