/**
 * The buggy i915 variant (spec C.8, `i915: "v2-restore-put"`): a specific short log
 * breaks the C.9 invariant "obj->ttm.backup non-NULL ⇔ the object holds exactly one
 * reference on the backup object" under it and not under the final code.
 */
import { describe, expect, it } from 'vitest';
import { selectInvariants } from '../../src/invariants/index.js';
import { checkI915, I915_INVARIANTS } from '../../src/invariants/i915.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';

const header = (variant: string) => JSON.stringify({ gpucr: 1, topology: { gpus: [] }, variants: { i915: variant } });

/** Shortest C.8 log (found by test/property/i915-bounded.test.ts). */
const C8 = [
  '{"call":"i915.create","args":{"pages":1,"flags":["PINNED"]},"ret":0,"out":{"obj":2}}',
  '{"call":"i915.suspend","ret":0}',
  '{"call":"fault","args":{"site":"i915.populate","errno":"ENOMEM"},"ret":0}',
  '{"call":"i915.resume","ret":0}',
];

/** …and the "potential uaf later": a retry of the restore uses the freed backup and puts it again. */
const C8_UAF = [...C8, '{"call":"i915.restore_region","args":{"allow_gpu":true},"ret":0}'];

function run(variant: string, lines: string[]) {
  const { header: h, events } = readLog(`${header(variant)}\n${lines.join('\n')}\n`, `${variant}.jsonl`);
  return replay(h, events, { invariants: selectInvariants(Object.keys(I915_INVARIANTS)) });
}

describe('spec C.8: "v2-restore-put" puts the backup on a failed restore and keeps obj->ttm.backup', () => {
  it('spec C.9: the 4-event log breaks i915.backup-reference at the resume under v2', () => {
    const rep = run('v2-restore-put', C8);
    expect(rep.ok).toBe(false);
    expect(rep.divergence).toBeUndefined();
    expect(rep.violation?.line).toBe(5);
    expect(rep.violation?.violations.map((v) => v.invariant)).toContain('i915.backup-reference');
  });

  it('spec C.8: the final code keeps the reference with the pointer: no violation', () => {
    const rep = run('final', C8);
    expect(rep.ok).toBe(true);
    expect(checkI915(rep.world)).toEqual([]);
  });

  it('spec C.8 ("potential uaf later"): under v2 a retried restore uses the freed backup and puts it a second time; under final it restores', () => {
    const { header: h, events } = readLog(`${header('v2-restore-put')}\n${C8_UAF.join('\n')}\n`, 'v2.jsonl');
    const v2 = replay(h, events);
    const messages = checkI915(v2.world)
      .map((v) => v.message)
      .join('\n');
    expect(messages).toMatch(/double put/);
    expect(messages).toMatch(/use\(s\) of a freed backup/);
    const final = run('final', C8_UAF);
    expect(final.ok).toBe(true);
  });
});
