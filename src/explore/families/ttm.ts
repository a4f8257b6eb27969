/**
 * The `ttm` family: one 2-page tt with a backup file, with every TTM entry point and the
 * fault sites of backup and restore (docs/known-bugs.md: spec A.9 F1).
 */
import type { Call, World } from '../../world/types.js';
import type { Action } from '../world-explorer.js';
import { type ActionSpec, call, fixedActions } from './common.js';

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

export function ttmFamily(): { setup: Call[]; actions: (w: World) => Action[] } {
  return {
    setup: [call('ttm.create', { num_pages: 2, caching: 'wc', backup: true })],
    actions: fixedActions(TTM_ACTIONS),
  };
}
