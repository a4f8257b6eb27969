/**
 * The objects of a kind (src/world/objects-by-kind.ts), which the invariants read: inside a
 * check's index and outside it, the same objects in the same order as a filter over the
 * world's keys, and every object and GEM record in key order; the index answers only for its own world; and a check reports the same
 * violations with the index as each invariant does on its own.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allInvariants, checkInvariants } from '../../src/invariants/index.js';
import { replayFile } from '../../src/log/replay.js';
import { everyGem, everyObject, objectsOfKind, withObjectsByKind } from '../../src/world/objects-by-kind.js';
import type { World } from '../../src/world/types.js';

const EXAMPLES = fileURLToPath(new URL('../../docs/examples/', import.meta.url));

/** The final world of every example log (the runs of `state`: assertions not checked). */
async function exampleWorlds(): Promise<[string, World][]> {
  const out: [string, World][] = [];
  for (const f of readdirSync(EXAMPLES).filter((n) => n.endsWith('.jsonl'))) {
    const r = await replayFile(join(EXAMPLES, f), { assertions: false, readThread: 'never' });
    out.push([f, r.world]);
  }
  return out;
}

/** What objectsOfKind must give: a filter over the world's keys. */
const filtered = (w: World, kind: string) =>
  Object.keys(w.objects)
    .filter((id) => w.objects[id]!.kind === kind)
    .map((id) => [id, w.objects[id]]);

describe('objects of a kind', () => {
  it('every example world, every kind (and one with no object): the same inside the index and outside', async () => {
    const worlds = await exampleWorlds();
    expect(worlds.length).toBeGreaterThan(5);
    let kindsSeen = 0;
    for (const [f, w] of worlds) {
      const kinds = [...new Set(Object.values(w.objects).map((r) => r.kind)), 'no.such_kind'];
      kindsSeen += kinds.length - 1;
      for (const kind of kinds) {
        expect(objectsOfKind(w, kind), `${f} ${kind}`).toEqual(filtered(w, kind));
        withObjectsByKind(w, () => expect(objectsOfKind(w, kind), `${f} ${kind}`).toEqual(filtered(w, kind)));
      }
    }
    expect(kindsSeen).toBeGreaterThan(20);
  });

  it('every object and every GEM record: in key order, inside the index and outside', async () => {
    let gems = 0;
    for (const [f, w] of await exampleWorlds()) {
      const objects = Object.keys(w.objects).map((id) => [id, w.objects[id]]);
      const gemRecords = Object.keys(w.gems).map((id) => [id, w.gems[id]]);
      gems += gemRecords.length;
      expect(everyObject(w), f).toEqual(objects);
      expect(everyGem(w), f).toEqual(gemRecords);
      withObjectsByKind(w, () => {
        expect(everyObject(w), f).toEqual(objects);
        expect(everyGem(w), f).toEqual(gemRecords);
        // Asked twice in one check: the same list, listed once.
        expect(everyGem(w)).toBe(everyGem(w));
      });
    }
    expect(gems).toBeGreaterThan(5);
  });

  it("the index answers for its own world only; another world's objects are its own", async () => {
    const worlds = (await exampleWorlds()).map(([, w]) => w).filter((w) => objectsOfKind(w, 'kfd.bo').length > 0);
    const [a, b] = worlds;
    expect(b).toBeDefined();
    withObjectsByKind(a!, () => {
      expect(objectsOfKind(b!, 'kfd.bo')).toEqual(filtered(b!, 'kfd.bo'));
      expect(objectsOfKind(a!, 'kfd.bo')).toEqual(filtered(a!, 'kfd.bo'));
      expect(everyObject(b!)).toEqual(Object.entries(b!.objects));
      expect(everyGem(b!)).toEqual(Object.entries(b!.gems));
    });
  });

  it('a check reports what each invariant reports on its own, on every example world', async () => {
    for (const [f, w] of await exampleWorlds()) {
      const one = allInvariants().flatMap((inv) => inv.check(w).map((v) => ({ invariant: inv.name, ...v })));
      expect(checkInvariants(w), f).toEqual(one);
    }
  });
});
