/**
 * The `i915` family: a pinned kernel object and a user object (the `bos` bound: user
 * objects) of 2 pages each (the `pages` bound) across suspend and resume with each fault
 * site (docs/known-bugs.md: spec C.8). With the `regions` bound above 1 the device is
 * probed with that many LMEM regions and each region after the first gets one user object
 * of its own, so that a step of the suspend can fail in a later region after the earlier
 * ones were walked (spec C.6, C.7); one region is the default, and the setup and actions
 * are then those of a device without i915.probe.
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
/** The user object of LMEM region r ≥ 1: numbered after the region-0 user objects. */
const regionUser = (users: number, r: number) => USER + users + r - 1;
/** One write per user object of a later region (page 0 is written by the setup) and its recover_region. */
const regionActions = (users: number, pages: number, regions: number): ActionSpec[] =>
  regions === 1
    ? []
    : [
        ...Array.from({ length: regions - 1 }, (_, i): ActionSpec => {
          const r = i + 1;
          return [`write region ${r} user`, 'gpu_write', { obj: regionUser(users, r), page: pages - 1, value: 16 + r }];
        }),
        // i915_ttm_recover_region of each later region on its own, as recover_region is of region 0
        ...Array.from({ length: regions - 1 }, (_, i): ActionSpec => [
          `recover_region ${i + 1}`,
          'i915.recover_region',
          { region: i + 1 },
        ]),
        // The second copy of step 1: the first later region's user object when region 0's is in LMEM.
        ['suspend, 2nd copy fails', 'i915.suspend', {}, ['i915.copy', 1]],
      ];
const i915Actions = (users: number, pages: number, regions: number): ActionSpec[] => [
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
  ...regionActions(users, pages, regions),
  ['unpin kernel', 'i915.unpin', { obj: KERNEL }],
  ['destroy kernel', 'i915.destroy', { obj: KERNEL }],
];

export function i915Family(bounds: Bounds = {}): { setup: Call[]; actions: (w: World) => Action[] } {
  const users = boundOf('i915', bounds, 'bos')!;
  const pages = boundOf('i915', bounds, 'pages')!;
  const regions = boundOf('i915', bounds, 'regions')!;
  const creates = Array.from({ length: users }, () => call('i915.create', { pages, flags: ['USER'] }));
  const later = Array.from({ length: regions - 1 }, (_, i) =>
    call('i915.create', { pages, flags: ['USER'], region: i + 1 }),
  );
  return {
    setup: [
      ...(regions > 1 ? [call('i915.probe', { regions })] : []),
      call('i915.create', { pages, flags: ['PINNED'] }),
      ...creates,
      ...later,
      call('gpu_write', { obj: KERNEL, page: pages - 1, value: 5 }),
      ...creates.map((_, i) => call('gpu_write', { obj: USER + i, page: 0, value: 6 + i })),
      ...later.map((_, i) => call('gpu_write', { obj: regionUser(users, i + 1), page: 0, value: 12 + i })),
    ],
    actions: fixedActions(i915Actions(users, pages, regions)),
  };
}
