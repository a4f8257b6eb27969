/**
 * Bounded exhaustive check of the TTM invariants (spec A.8, A.7): every sequence of
 * up to N actions on one tt — populate, writes, backup (full, partial, failing,
 * purge), restore (plain and with every injected failure), clear_backed_up,
 * unpopulate, fini — keeps every invariant in the fixed variant; the unfixed F1
 * variant (spec A.9) breaks one, and the shortest such sequence is a replayable log.
 */
import { describe, expect, it } from 'vitest';
import { checkTtm } from '../../src/invariants/ttm.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { abstractKey, type Action, boundedSearch, Sim } from '../conformance/ttm-harness.js';

const TT = 1;

function act(name: string, call: string, args: Record<string, unknown>, fault?: [string, number, number?]): Action {
  return {
    name,
    run: (s) => {
      s.disarm();
      if (fault) s.fault(fault[0], { after: fault[1], count: fault[2] });
      s.call(call, { tt: TT, ...args });
    },
  };
}

export const TTM_ACTIONS: Action[] = [
  act('populate', 'ttm.populate', {}),
  act('unpopulate', 'ttm.unpopulate', {}),
  act('write p0=1', 'gpu_write', { page: 0, value: 1 }),
  act('write p1=2', 'gpu_write', { page: 1, value: 2 }),
  act('write p2=3', 'gpu_write', { page: 2, value: 3 }),
  act('backup', 'ttm.backup', {}),
  act('backup purge', 'ttm.backup', { purge: true }),
  act('backup, page 1 fails', 'ttm.backup', {}, ['ttm.backup_page', 1]),
  act('backup, page 0 fails', 'ttm.backup', {}, ['ttm.backup_page', 0]),
  act('backup, no swap', 'ttm.backup', {}, ['ttm.no_swap', 0]),
  act('restore', 'ttm.restore', { interruptible: true }),
  act('restore, 1st copy fails', 'ttm.restore', { interruptible: true }, ['ttm.copy_page', 0]),
  act('restore, 2nd copy fails', 'ttm.restore', { interruptible: true }, ['ttm.copy_page', 1]),
  act('restore, 3rd copy fails', 'ttm.restore', { interruptible: true }, ['ttm.copy_page', 2]),
  act('restore, 1st alloc fails', 'ttm.restore', { interruptible: true }, ['ttm.restore_alloc', 0]),
  act('restore, 2nd alloc fails twice', 'ttm.restore', { interruptible: true }, ['ttm.restore_alloc', 1, 2]),
  act('restore, 3rd alloc fails', 'ttm.restore', { interruptible: true }, ['ttm.restore_alloc', 2]),
  act('clear_backed_up', 'ttm.clear_backed_up', {}),
  act('swapout', 'ttm.swapout', {}),
  act('swapout, page 1 fails', 'ttm.swapout', {}, ['ttm.backup_page', 1]),
  act('swapin', 'ttm.swapin', {}),
  act('populate, swapin read 1 fails', 'ttm.populate', {}, ['ttm.copy_page', 1]),
  act('fini', 'ttm.fini', {}),
];

function start(variant: 'fixed' | 'unfixed-restore-drop', pages: number, backup = true): Sim {
  const s = new Sim({ ttm: variant });
  expect(s.createTt({ num_pages: pages, caching: 'wc', backup })).toBe(TT);
  return s;
}

describe('TTM invariants on every reachable state within bounds', () => {
  // 2 pages: one order-1 block; 3 pages: an order-1 and an order-0 block; 4: one order-2 block.
  for (const pages of [2, 3, 4])
    it(`spec A.8 1–7, A.7: the fixed variant keeps every invariant in every sequence of ≤ 7 actions on a ${pages}-page tt`, () => {
      const r = boundedSearch(start('fixed', pages), TTM_ACTIONS, 7, checkTtm, abstractKey);
      expect(r.counterexample?.violations ?? []).toEqual([]);
      expect(r.states).toBeGreaterThan(100);
      console.log(`ttm fixed, ${pages} pages: ${r.states} abstract states within 7 actions, no violation`);
    });

  it('spec A.8, A.5: a legacy tt (no backup file) keeps every invariant in every sequence of ≤ 7 actions', () => {
    const r = boundedSearch(start('fixed', 3, false), TTM_ACTIONS, 7, checkTtm, abstractKey);
    expect(r.counterexample?.violations ?? []).toEqual([]);
    console.log(`ttm fixed, legacy 3 pages: ${r.states} abstract states within 7 actions, no violation`);
  });

  it('spec A.9 F1: the unfixed variant breaks A.8 6 after populate, backup, a restore interrupted in its last block, and its resume', () => {
    const r = boundedSearch(start('unfixed-restore-drop', 2), TTM_ACTIONS, 6, checkTtm, abstractKey);
    const cx = r.counterexample!;
    expect(cx).toBeDefined();
    expect(cx.violations.map((v) => v.invariant)).toContain('ttm.restore-implies-backed-up');
    // Shortest: populate, back up, restore interrupted inside the (only, order-1) first block, resume.
    expect(cx.actions).toHaveLength(4);
    expect(cx.actions[0]).toBe('populate');
    expect(cx.actions[3]).toBe('restore');
    console.log(`ttm unfixed-restore-drop shortest counterexample: ${cx.actions.join(' → ')}\n${cx.sim.jsonl()}`);

    // The counterexample is a replayable log: it replays with every recorded result, and
    // its final world breaks the invariant; the same log under the fixed variant does not.
    const log = cx.sim.jsonl();
    const { header, events } = readLog(log, 'f1.jsonl');
    const rep = replay(header, events);
    expect(rep.ok).toBe(true);
    expect(checkTtm(rep.world).map((v) => v.invariant)).toContain('ttm.restore-implies-backed-up');
    const fixed = readLog(log.replace('"unfixed-restore-drop"', '"fixed"'), 'f1-fixed.jsonl');
    const repFixed = replay(fixed.header, fixed.events);
    expect(repFixed.ok).toBe(true);
    expect(checkTtm(repFixed.world)).toEqual([]);
  });
});
