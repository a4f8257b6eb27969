/**
 * The `ttm` family: one tt with a backup file (2 pages, the `pages` bound), with every TTM
 * entry point, a write per page and the fault sites of populate, backup and restore
 * (docs/known-bugs.md: spec A.9 F1).
 */
import { fls } from '../../../machines/ttm/pool-pages.js';
import type { Call, World } from '../../world/types.js';
import type { Action } from '../world-explorer.js';
import { type ActionSpec, call, fixedActions } from './common.js';
import { type Bounds, boundOf } from './bounds.js';

const TT = 1;
/** The actions of a tt of `pages` pages: page p is written with p + 1. */
const ttmActions = (pages: number): ActionSpec[] => [
  ['populate', 'ttm.populate', { tt: TT }],
  // the first block fails at every order down to 0: fls(pages) + 1 passes
  ['populate, alloc fails', 'ttm.populate', { tt: TT }, ['ttm.alloc', 0, fls(pages) + 1]],
  ['unpopulate', 'ttm.unpopulate', { tt: TT }],
  ...Array.from({ length: pages }, (_, p): ActionSpec => [
    `write p${p}`,
    'gpu_write',
    { tt: TT, page: p, value: p + 1 },
  ]),
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

export function ttmFamily(bounds: Bounds = {}): { setup: Call[]; actions: (w: World) => Action[] } {
  const pages = boundOf('ttm', bounds, 'pages')!;
  return {
    setup: [call('ttm.create', { num_pages: pages, caching: 'wc', backup: true })],
    actions: fixedActions(ttmActions(pages)),
  };
}
