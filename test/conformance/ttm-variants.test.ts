/**
 * The buggy TTM variant (spec A.9 F1, `ttm: "unfixed-restore-drop"`): a specific short
 * log breaks an A.8 invariant under it and under no other variant. The logs are replayed
 * through the log reader and src/log/replay.ts with the TTM invariants checked after
 * every event (what `gpucr replay --check` does).
 */
import { describe, expect, it } from 'vitest';
import { selectInvariants } from '../../src/invariants/index.js';
import { checkTtm, TTM_INVARIANTS } from '../../src/invariants/ttm.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';

const header = (variant: string) => JSON.stringify({ gpucr: 1, topology: { gpus: [] }, variants: { ttm: variant } });

/** Shortest F1 log (found by test/property/ttm-bounded.test.ts): 2 pages = one order-1 block, the last. */
const F1 = [
  '{"call":"ttm.create","args":{"num_pages":2,"caching":"wc","backup":true},"ret":0,"out":{"tt":1}}',
  '{"call":"ttm.populate","args":{"tt":"$2.tt"},"ret":0}',
  '{"call":"ttm.backup","args":{"tt":"$2.tt"}}',
  '{"call":"fault","args":{"site":"ttm.copy_page","errno":"EINTR","after":1},"ret":0}',
  '{"call":"ttm.restore","args":{"tt":"$2.tt","interruptible":true},"ret":-4}',
  '{"call":"ttm.restore","args":{"tt":"$2.tt","interruptible":true},"ret":0}',
];

/** B.6 4 continued: back up and restore again; the GPU then reads the pages. */
const F1_CONTENT = [
  '{"call":"ttm.create","args":{"num_pages":2,"caching":"wc","backup":true},"ret":0,"out":{"tt":1}}',
  '{"call":"ttm.populate","args":{"tt":"$2.tt"},"ret":0}',
  '{"call":"gpu_write","args":{"tt":"$2.tt","page":0,"value":4660},"ret":0}',
  '{"call":"gpu_write","args":{"tt":"$2.tt","page":1,"value":22136},"ret":0}',
  '{"call":"ttm.backup","args":{"tt":"$2.tt"}}',
  '{"call":"fault","args":{"site":"ttm.copy_page","errno":"EINTR","after":1},"ret":0}',
  '{"call":"ttm.restore","args":{"tt":"$2.tt","interruptible":true},"ret":-4}',
  '{"call":"ttm.restore","args":{"tt":"$2.tt","interruptible":true},"ret":0}',
  '{"call":"ttm.backup","args":{"tt":"$2.tt"}}',
  '{"call":"ttm.restore","args":{"tt":"$2.tt","interruptible":true},"ret":0}',
  '{"call":"gpu_read","args":{"tt":"$2.tt","page":0}}',
  '{"call":"gpu_read","args":{"tt":"$2.tt","page":1}}',
];

function run(variant: string, lines: string[], check = true) {
  const { header: h, events } = readLog(`${header(variant)}\n${lines.join('\n')}\n`, `${variant}.jsonl`);
  return replay(h, events, check ? { invariants: selectInvariants(Object.keys(TTM_INVARIANTS)) } : {});
}

describe('spec A.9 F1: "unfixed-restore-drop" keeps tt->restore after a resumed restore completes in its last block', () => {
  it('spec A.8 6: the 6-event log breaks "restore ≠ NULL ⇒ BACKED_UP" at its last line under the unfixed variant', () => {
    const rep = run('unfixed-restore-drop', F1);
    expect(rep.ok).toBe(false);
    expect(rep.divergence).toBeUndefined();
    expect(rep.violation?.line).toBe(7);
    expect(rep.violation?.violations.map((v) => v.invariant)).toContain('ttm.restore-implies-backed-up');
  });

  it('spec A.9 F1: the same log keeps every invariant under the fixed variant', () => {
    const rep = run('fixed', F1);
    expect(rep.ok).toBe(true);
    expect(checkTtm(rep.world)).toEqual([]);
  });

  it('spec A.9 F1: continued, the unfixed second restore returns 0 with the handles still installed — the GPU reads fault', () => {
    const bad = run('unfixed-restore-drop', F1_CONTENT, false);
    expect(bad.ok).toBe(true);
    expect(checkTtm(bad.world).map((v) => v.invariant)).toContain('ttm.state-predicate');
    const fixed = run('fixed', F1_CONTENT, false);
    expect(fixed.ok).toBe(true);
    expect(checkTtm(fixed.world)).toEqual([]);
  });

  it('spec A.9 F1: reads after the second restore: 4660 and 22136 under the fixed variant, -EFAULT under the unfixed one', () => {
    const withReads = (values: [number, number] | number) =>
      F1_CONTENT.map((l, i) => {
        if (i < 10) return l;
        const o = JSON.parse(l) as Record<string, unknown>;
        if (typeof values === 'number') o.ret = values;
        else o.out = { value: values[i - 10] };
        return JSON.stringify(o);
      });
    expect(run('fixed', withReads([4660, 22136]), false).ok).toBe(true);
    expect(run('unfixed-restore-drop', withReads(-14), false).ok).toBe(true);
  });
});
