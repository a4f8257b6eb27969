/**
 * The send path changes a machine's context in place (src/world/compiled.ts `advance`,
 * docs/world.md "step and applyInPlace"); the reference gives every transition a new
 * context, as XState's assign does (`useCopiedContexts`: the copying compiled form, checked
 * equal to XState's transition in compiled-machines.test.ts). A handler that read a context
 * field before a `send` and used it after, expecting the value before, would make the two
 * disagree. Both run the same corpus — every
 * example log, and generated CRIU histories on two GPUs (KFD BOs of every kind, maps,
 * queues, events, SVM ranges, render-node BOs, sharing both ways) dumped and restored, and
 * random walks of every explorer family (TTM, i915/Xe, KFD, amdgpu, CRIU) — and must give
 * byte-identical worlds and the same result for every call. And `step`, whose transitions
 * write through immer's draft, must leave the world it is given as it was.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { replayFile } from '../../src/log/replay.js';
import { worldHash } from '../../src/log/snapshot.js';
import { useCopiedContexts } from '../../src/world/objects.js';
import { FAMILIES, familyModel, FIXED_BASELINE } from '../../src/explore/families/index.js';
import { applyInPlace, step } from '../../src/world/step.js';
import { createWorld } from '../../src/world/world.js';
import { APP, buildHistory, opArb, type Op } from '../criu/history.js';
import { ROOT } from '../cli/helpers.js';

const DIR = join(ROOT, 'docs/examples');

/** Run `f` with a new context per transition (`copied`) or with contexts changed in place. */
function withContexts<T>(copied: boolean, f: () => T): T {
  useCopiedContexts(copied);
  try {
    return f();
  } finally {
    useCopiedContexts(false);
  }
}

afterEach(() => useCopiedContexts(false));

describe('contexts changed in place give the worlds of a new context per transition', () => {
  for (const f of readdirSync(DIR)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()) {
    it(`docs/examples/${f}: the same report and the same world hash`, async () => {
      const run = async (copied: boolean) => {
        useCopiedContexts(copied);
        try {
          const r = await replayFile(join(DIR, f));
          return { ok: r.ok, events: r.events, last: r.lastLine, hash: worldHash(r.world) };
        } finally {
          useCopiedContexts(false);
        }
      };
      const compiled = await run(false);
      expect(await run(true)).toEqual(compiled);
    });
  }

  it('generated CRIU histories: the same calls, the same dumped and restored worlds', () => {
    const run = (ops: readonly Op[], copied: boolean) =>
      withContexts(copied, () => {
        const h = buildHistory(ops);
        const built = worldHash(h.world);
        const r = roundtrip(h.world, APP, { inPlace: true });
        return {
          built,
          dumped: worldHash(h.world),
          dump: r.dump.calls.map((c) => [c.call, c.ret]),
          restore: r.restore?.calls.map((c) => [c.call, c.ret]) ?? null,
          restored: r.restored ? worldHash(r.restored) : null,
          differences: r.differences,
        };
      });
    fc.assert(
      fc.property(fc.array(opArb(false), { maxLength: 24 }), (ops) => {
        expect(run(ops, true)).toEqual(run(ops, false));
      }),
      { numRuns: 40, seed: 0x1c7 },
    );
  });

  for (const family of FAMILIES)
    it(`random walks of the ${family} explorer family: the same results and the same worlds`, () => {
      const walk = (picks: readonly number[], copied: boolean) =>
        withContexts(copied, () => {
          const model = familyModel(family, FIXED_BASELINE);
          const w = model.initial;
          const results: (string | number)[] = [];
          for (const p of picks) {
            const offered = model.actions(w);
            if (offered.length === 0) break;
            const a = offered[p % offered.length]!;
            results.push(a.name);
            for (const c of a.calls) results.push(applyInPlace(w, c).ret);
          }
          return { results, hash: worldHash(w) };
        });
      fc.assert(
        fc.property(fc.array(fc.nat({ max: 1023 }), { maxLength: 16 }), (picks) => {
          expect(walk(picks, true)).toEqual(walk(picks, false));
        }),
        { numRuns: 30, seed: 0x1c8 },
      );
    });

  it('step never changes the world it is given (its writes go through the draft), and ends where applyInPlace does', () => {
    fc.assert(
      fc.property(fc.array(opArb(false), { maxLength: 16 }), (ops) => {
        const h = buildHistory(ops);
        let w = createWorld(h.world.topology);
        for (const c of h.calls) {
          const before = worldHash(w);
          const next = step(w, c).world;
          expect(worldHash(w)).toBe(before);
          w = next;
        }
        expect(worldHash(w)).toBe(worldHash(h.world));
      }),
      { numRuns: 20, seed: 0x1c9 },
    );
  });
});
