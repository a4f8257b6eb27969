/**
 * The round trip's comparison: sameTreeView (the BO-by-BO check in place) agrees with
 * diffViews of the built views. It may only say "alike" when the views show no difference;
 * each change the application could observe makes it say "not alike" and diffViews name it.
 */
import { describe, expect, it } from 'vitest';
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import { diffViews, processView, roundtrip, sameTreeView, treeView } from '../../src/criu/roundtrip.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { APP } from '../../src/scenarios/rocm-two-gpus.js';
import { MAKE_HANDLE } from '../../src/uapi/index.js';
import { contextOf } from '../../src/world/objects.js';
import { applyInPlace } from '../../src/world/step.js';
import type { World } from '../../src/world/types.js';
import { liveTask } from '../../src/world/world.js';
import { scenarioWorld } from '../mbt/adapters/criu-scenario.js';

/** The source world as the dump left it and the restored world. */
function pair(): { src: World; dest: World } {
  const src = scenarioWorld();
  const r = roundtrip(src, APP, { inPlace: true });
  expect(r.equivalent).toBe(true);
  return { src, dest: r.restored! };
}

/** The first KFD BO of the restored task with content (its pdd, idr handle, object id). */
function boWithContent(w: World): { pdd: string; idr: number; id: string } {
  for (const pdd of liveTask(w, APP)!.pdds)
    for (const [h, id] of Object.entries(w.alloc_idr?.[pdd] ?? {})) {
      const gem = w.gems[contextOf<BoContext>(w, id).gem];
      if (gem && Object.keys(gem.content).length > 0) return { pdd, idr: Number(h), id };
    }
  throw new Error('no BO with content');
}

const bo = (w: World, id: string) => w.objects[id]!.context as BoContext;

const changes: [string, (w: World) => void][] = [
  ['a BO address', (w) => (bo(w, boWithContent(w).id).va += 0x1000n)],
  ['a BO size', (w) => (bo(w, boWithContent(w).id).size += 1n)],
  ['a BO flag', (w) => (bo(w, boWithContent(w).id).alloc_flags ^= 0x40)],
  ['a BO user address', (w) => (bo(w, boWithContent(w).id).user_addr = 0x1234n)],
  ['a BO state', (w) => (w.objects[boWithContent(w).id]!.value = 'other')],
  [
    'a page value',
    (w) => {
      const c = w.gems[bo(w, boWithContent(w).id).gem]!.content;
      const p = Number(Object.keys(c)[0]);
      c[p] = c[p]! + 1;
    },
  ],
  ['an extra page', (w) => (w.gems[bo(w, boWithContent(w).id).gem]!.content[123456] = 7)],
  [
    'a lost page',
    (w) => {
      const c = w.gems[bo(w, boWithContent(w).id).gem]!.content;
      delete c[Number(Object.keys(c)[0])];
    },
  ],
  [
    'a mapping (UNMAP on one GPU)',
    (w) => {
      const { pdd, idr } = boWithContent(w);
      const user = contextOf<PddContext>(w, pdd).user_gpu_id;
      const bos = (processView(w, APP)[`gpu ${user.toString(16)}`] as { bos: Record<number, { mapped_on: number[] }> })
        .bos;
      const on = bos[idr]!.mapped_on;
      expect(on.length).toBeGreaterThan(0);
      const t = liveTask(w, APP)!;
      const kfd = Number(Object.keys(t.fds).find((fd) => w.files[t.fds[Number(fd)]!]?.kind === 'kfd'));
      const args = decodeArgs(
        callDef('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU')!.args,
        { handle: MAKE_HANDLE(user, idr), device_ids: [on[0]!] },
        'args',
      );
      expect(applyInPlace(w, { pid: APP, call: 'AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', fd: kfd, args }).ret).toBe(0);
    },
  ],
  [
    'a lost handle',
    (w) => {
      const { pdd, idr } = boWithContent(w);
      delete w.alloc_idr![pdd]![idr];
    },
  ],
  [
    'an extra handle',
    (w) => {
      const { pdd, id } = boWithContent(w);
      w.alloc_idr![pdd]![99999] = id;
    },
  ],
  [
    'a handle renumbered',
    (w) => {
      const { pdd, idr, id } = boWithContent(w);
      delete w.alloc_idr![pdd]![idr];
      w.alloc_idr![pdd]![99999] = id;
    },
  ],
  [
    'a vram usage',
    (w) => {
      const p = contextOf<PddContext>(w, liveTask(w, APP)!.pdds[0]!);
      p.vram_usage += 4096n;
    },
  ],
];

describe('round trip comparison (sameTreeView ⇔ no diffViews difference)', () => {
  it('the restored world of the built-in scenario is alike, and its views show no difference', () => {
    const { src, dest } = pair();
    expect(sameTreeView(src, dest, [APP])).toBe(true);
    expect(diffViews(treeView(src, [APP]), treeView(dest, [APP]))).toEqual([]);
  });

  for (const [what, change] of changes)
    it(`${what} changed in the restored world: not alike, and diffViews names it`, () => {
      const { src, dest } = pair();
      change(dest);
      expect(sameTreeView(src, dest, [APP])).toBe(false);
      expect(diffViews(treeView(src, [APP]), treeView(dest, [APP])).length).toBeGreaterThan(0);
      // and the round trip's own answer is the listing of the views
      expect(sameTreeView(dest, src, [APP])).toBe(false);
    });
});

describe('mapped_on of a BO view', () => {
  it('lists the user gpu ids a BO is mapped on in ascending order, whatever the actual ids', () => {
    const w = scenarioWorld();
    const pdds = liveTask(w, APP)!.pdds.map((id) => contextOf<PddContext>(w, id));
    expect(pdds.length).toBeGreaterThan(1);
    // the restore's renaming may reverse the order: user ids in the opposite order of the actual ids
    const users = pdds.map((p) => p.user_gpu_id);
    pdds.forEach((p, i) => (p.user_gpu_id = users[users.length - 1 - i]!));
    const lists = Object.entries(processView(w, APP))
      .filter(([k]) => k.startsWith('gpu '))
      .flatMap(([, v]) => Object.values((v as { bos: Record<number, { mapped_on: number[] }> }).bos))
      .map((b) => b.mapped_on);
    expect(lists.some((l) => l.length > 1)).toBe(true);
    for (const l of lists) expect(l).toEqual([...l].sort((a, b) => a - b));
  });
});
