/**
 * amdgpu.vm-index (src/ioctls/amdgpu/oops.ts): a VM's mappings are those of its bo_vas, they
 * never overlap (amdgpu_vm_bo_map refuses a conflict, spec §8.2), every bo_va of the VM is
 * listed by it, and the interval index the handlers search (src/world/vm.ts) equals them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BoVaContext } from '../../machines/amdgpu/bo-va.js';
import { checkInvariants, selectInvariants } from '../../src/invariants/index.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import type { World } from '../../src/world/types.js';

const text = readFileSync(new URL('../fixtures/design-example.jsonl', import.meta.url), 'utf8');

function mapped(): World {
  const { header, events } = readLog(text, 'design-example.jsonl');
  const rep = replay(header, events);
  expect(rep.ok).toBe(true);
  return rep.world;
}

const check = (w: World) => checkInvariants(w, selectInvariants(['amdgpu.vm-index'])).map((v) => v.message);

function boVaWithMapping(w: World): [string, BoVaContext] {
  const found = Object.entries(w.objects).find(
    ([, r]) => r.kind === 'amdgpu.bo_va' && (r.context as BoVaContext).valids.length > 0,
  );
  if (!found) throw new Error('the design example maps a BO: it has a bo_va with a valid mapping');
  return [found[0], found[1].context as BoVaContext];
}

describe('amdgpu.vm-index (spec §8.2)', () => {
  it('holds after the design example (a KFD BO mapped in its compute VM)', () => {
    expect(check(mapped())).toEqual([]);
  });

  it('a second bo_va mapping the same pages breaks disjointness, and the index no longer equals the mappings', () => {
    const w = mapped();
    const [id, c] = boVaWithMapping(w);
    const m = c.valids[0]!;
    // A copy of the same mapping added to the bo_va behind the handlers' back.
    w.objects[id]!.context = { ...c, invalids: [{ ...m }] };
    const msgs = check(w);
    expect(msgs.some((s) => /VM mappings not disjoint at page/.test(s))).toBe(true);
    expect(msgs.some((s) => /VM index ≠ the mappings of its bo_vas/.test(s))).toBe(true);
  });

  it('a bo_va of the VM that the VM does not list is reported', () => {
    const w = mapped();
    const [id, c] = boVaWithMapping(w);
    const vm = w.drm![c.vm]!.vm;
    const gem = Object.keys(vm.bo_vas).find((g) => vm.bo_vas[g] === id)!;
    delete vm.bo_vas[gem];
    expect(check(w)).toContain(`${c.vm}: ${id} is a bo_va of this VM that the VM does not list`);
  });
});
