/**
 * The rules across a ttm.tt context's fields that a snapshot load checks (machines/ttm/tt-context.ts
 * `ttRules`, `restoreRules`; docs/log-format.md "Snapshots"): a hand-edited tt that breaks one is
 * bad input naming the field, where a handler would otherwise write holes into the page vector or
 * throw as for a model bug.
 */
import { describe, expect, it } from 'vitest';
import type { TtContext } from '../../machines/ttm/tt-context.js';
import { restoreSnapshot, snapshotText } from '../../src/log/snapshot.js';
import type { World } from '../../src/world/types.js';
import { example, inputError, worldOf } from './snapshot-helpers.js';

/** The interrupted-restore example up to its second interrupted ttm.restore: a tt in the middle of a restore. */
function restoring(): World {
  const lines = example('ttm-interrupted-restore.jsonl').trimEnd().split('\n');
  return worldOf(lines.slice(0, 14).join('\n') + '\n');
}

/** The snapshot text of a copy of `w` whose one tt is edited by `edit`. */
function edited(w: World, edit: (c: TtContext) => void): string {
  const copy = structuredClone(w);
  const tt = Object.values(copy.objects).find((o) => o.kind === 'ttm.tt')!;
  edit(tt.context as TtContext);
  return snapshotText(copy);
}

describe('snapshot load: the rules across a ttm.tt context', () => {
  const w = restoring();

  it('the world before the edit is mid-restore and loads back', () => {
    const tt = Object.values(w.objects).find((o) => o.kind === 'ttm.tt')!;
    expect((tt.context as TtContext).restore).not.toBeNull();
    expect(() => restoreSnapshot(snapshotText(w))).not.toThrow();
  });

  for (const [what, edit, message] of [
    ['a vector shorter than num_pages', (c) => c.slots.pop(), /slots.*a list of num_pages \(4\) slots/],
    ['pages in a SWAPPED tt', (c) => (c.flags.swapped = true), /no page in a SWAPPED tt/],
    ['a restore position past num_pages', (c) => (c.restore!.snap.pos = 5), /snap\.pos.*a value ≤ num_pages \(4\)/],
    [
      'more pages remaining than the vector has after the position',
      (c) => (c.restore!.snap.remaining = 4 - c.restore!.snap.pos + 1),
      /snap\.remaining.*a value ≤ num_pages − snap\.pos/,
    ],
    [
      'more pages allocated than num_pages',
      (c) => (c.restore!.alloced_pages = 5),
      /alloced_pages.*a value ≤ num_pages \(4\)/,
    ],
  ] as [string, (c: TtContext) => void, RegExp][])
    it(`${what} is bad input naming the field`, () => {
      expect(inputError(() => restoreSnapshot(edited(w, edit))).message).toMatch(message);
    });
});
