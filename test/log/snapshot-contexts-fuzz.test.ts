/**
 * Hand-edited snapshots (issue 4, "no stack trace for a user's mistake"): a snapshot whose
 * hash is fixed up after an edit of one machine context, or of any other part of the world
 * (an index, a GEM record, a counter), either is refused as bad input,
 * or loads into a world every handler can run on. Replaying the rest of the log from it may
 * diverge (the world is another one) but never throws anything but bad input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { LogError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { restoreSnapshot, snapshotText } from '../../src/log/snapshot.js';
import { splitLog } from '../../src/log/split.js';
import type { World } from '../../src/world/types.js';
import { example } from './snapshot-helpers.js';

/** Logs whose middle holds objects of every kind the examples build. */
const LOGS = [
  'criu-roundtrip.jsonl',
  'kfd-restore-resume.jsonl',
  'kfd-checkpoint-two-gpus.jsonl',
  'amdgpu-upstream-restore.jsonl',
  'amdgpu-criu-op-v3.jsonl',
  'ttm-interrupted-restore.jsonl',
  'i915-suspend-faults.jsonl',
];

/** A value of the same shape as `v`, or near it, chosen by `pick`: what a hand edit writes. */
function nearby(v: unknown, pick: number, ids: string[]): unknown {
  if (typeof v === 'number') return [0, 1, -1, v + 1, v - 1, 2 ** 32 - 1, 2 ** 31, 4096, 0xa3e1, 1.5][pick % 10];
  if (typeof v === 'bigint') return [0n, 1n, v + 1n, v - 1n, 2n ** 64n - 1n, 0x1000n][pick % 6];
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'string' || v === null) return [...ids, '', 0, null][pick % (ids.length + 3)];
  if (Array.isArray(v)) return [[], v.slice(1), [...v, ...v], [...v].reverse()][pick % 4];
  const keys = Object.keys(v as object);
  if (pick % 3 === 0 || keys.length === 0) return {};
  const copy = { ...(v as Record<string, unknown>) };
  const key = keys[pick % keys.length]!;
  // Drop a key, or copy its value under a key of the same form (`kfd.bo#12` → `kfd.bo#129`, `3` → `39`).
  if (pick % 3 === 1) delete copy[key];
  else copy[`${key}9`] = copy[key];
  return copy;
}

/** Follow `path` (indices into key lists) from `v` as deep as it goes; edit the field there. */
function editAt(v: Record<string, unknown>, path: number[], pick: number, ids: string[]): void {
  const keys = Object.keys(v);
  if (keys.length === 0) return;
  const key = keys[path[0]! % keys.length]!;
  const child = v[key];
  if (
    path.length > 1 &&
    typeof child === 'object' &&
    child !== null &&
    !(child instanceof Uint8Array) &&
    Object.keys(child).length > 0
  ) {
    editAt(child as Record<string, unknown>, path.slice(1), pick, ids);
    return;
  }
  v[key] = nearby(child, pick, ids);
}

function idsOf(w: World): string[] {
  return [...Object.keys(w.objects), ...Object.keys(w.files), ...Object.keys(w.gems)];
}

describe('hand-edited snapshots', () => {
  it('an edited context or index is bad input, or the rest of the log replays from it without an internal error', () => {
    const splits = LOGS.flatMap((name) => {
      const text = example(name);
      const last = readLog(text, name).events.at(-1)!.line;
      return [Math.floor(last / 3), Math.floor(last / 2), Math.floor((2 * last) / 3)].map((at) => {
        const s = splitLog(text, at, name);
        return { name, at, world: restoreSnapshot(s.snapshot), tail: s.tail };
      });
    });
    let loaded = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.nat(splits.length - 1),
        fc.option(fc.nat(), { freq: 2 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (s, objectPick, path, pick) => {
          const { name, at, world, tail } = splits[s]!;
          const ids = Object.keys(world.objects);
          const copy = structuredClone(world);
          // One object's context (the part with the most fields), or anywhere in the world.
          const id = objectPick === null || ids.length === 0 ? 'the world' : ids[objectPick % ids.length]!;
          const root = id === 'the world' ? copy : copy.objects[id]!.context;
          editAt(root as unknown as Record<string, unknown>, path, pick, idsOf(world));
          const text = snapshotText(copy);
          let edited: World;
          try {
            edited = restoreSnapshot(text);
          } catch (e) {
            if (!(e instanceof InputError)) throw e;
            refused++;
            return;
          }
          loaded++;
          // The tail names the snapshot it continues from: the edited one now.
          const hash = /"hash":"(sha256:[0-9a-f]+)"/.exec(text)![1]!;
          const retold = tail.replace(/"snapshot":"sha256:[0-9a-f]+"/, `"snapshot":"${hash}"`);
          const { header, events } = readLog(retold, 'tail');
          try {
            replay(header, events, { file: 'tail', world: edited });
          } catch (e) {
            if (e instanceof InputError || e instanceof LogError) return;
            throw new Error(`${name} split at ${at}, ${id} edited: ${(e as Error).stack}`);
          }
        },
      ),
      { numRuns: 3000, seed: 4 },
    );
    // Both outcomes happen: the property is not satisfied by refusing everything.
    expect(refused).toBeGreaterThan(100);
    expect(loaded).toBeGreaterThan(100);
    // A guard against a hang, not a measure: 3,000 snapshot loads take 25-40 s on a quiet 2-core
    // machine and went past the default 60 s in a clean-clone CI run sharing it (session 17).
  }, 300_000);
});
