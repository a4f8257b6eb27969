/**
 * The dumps a world keeps for a later `criu.restore {dump}` (`saved`, src/log/snapshot-saved.ts):
 * a snapshot load checks them as `gpucr restore` checks an image directory, so an edited image is
 * refused at load, naming the snapshot place, the image file and its field. Before the check, a
 * restore took whatever loaded: images no directory can hold (two images with one file id, a
 * message field of another type), which the restore then read where a directory's reader refuses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CriuKfd, writeImageDir } from '../../src/criu/images/index.js';
import type { SavedDump } from '../../src/criu/saved-dump.js';
import { writeCoreImage } from '../../src/criu/tasks-image.js';
import { InputError } from '../../src/errors.js';
import { readLog } from '../../src/log/reader.js';
import { restoreSnapshot, snapshotText } from '../../src/log/snapshot.js';
import { splitLog } from '../../src/log/split.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { applyInPlace, thaw } from '../../src/world/step.js';
import type { World } from '../../src/world/types.js';
import { example, inputError } from './snapshot-helpers.js';

const LOG = 'criu-roundtrip.jsonl';
/** The line of the example's criu.dump (its criu.restore {dump} comes later). */
const DUMP = readLog(example(LOG), LOG).events.find((e) => e.call === 'criu.dump')!.line;

/** The example's world after its dump, which keeps the dump's images under its object id. */
function split(): { world: World; id: string } {
  const world = restoreSnapshot(splitLog(example(LOG), DUMP + 1, LOG).snapshot);
  return { world, id: Object.keys(world.saved ?? {})[0]! };
}

/** The load of the world after `edit` of its one saved dump (a copy). */
function loadEdited(w: World, id: string, edit: (d: SavedDump, copy: World) => void): () => World {
  const copy = thaw(w);
  edit(copy.saved![id] as SavedDump, copy);
  const text = snapshotText(copy);
  return () => restoreSnapshot(text);
}

const kfdOf = (d: SavedDump): CriuKfd => d.images.kfd[0]!.kfd;

describe('saved dumps in snapshots', () => {
  it('the example keeps its dump, with its images, tasks and a kfd image', () => {
    const { world, id } = split();
    expect(id).toMatch(/^criu\.dump#\d+$/);
    const d = world.saved![id] as SavedDump;
    expect(d.images.kfd.length).toBeGreaterThan(0);
    expect(d.tasks.length).toBeGreaterThan(0);
  });

  it('an image field the plugin’s rules refuse: refused at load, naming the place, the image file and the field (spec §9.2)', () => {
    const { world, id } = split();
    const e = inputError(
      loadEdited(world, id, (d) => {
        kfdOf(d).bo_entries[0]!.gpu_id = 1;
      }),
    );
    expect(e.message).toMatch(
      new RegExp(
        `^snapshot\\.world\\.saved\\.${id.replace('.', '\\.')}\\.images: amdgpu-kfd-\\d+\\.img: bo_entries\\[0\\]\\.gpu_id: expected the gpu_id of a GPU device entry, found 0x1$`,
      ),
    );
  });

  it('a message field of another type, a priv_data blob cut short, an unknown message field: refused at that field', () => {
    const { world, id } = split();
    const cases: [(d: SavedDump) => void, RegExp][] = [
      [
        (d) => ((kfdOf(d) as unknown as Record<string, unknown>).num_of_gpus = '2'),
        /\.img: num_of_gpus: expected a uint32/,
      ],
      [(d) => (kfdOf(d).priv_data = kfdOf(d).priv_data.slice(0, 10)), /\.img: priv_data/],
      [
        (d) => ((kfdOf(d) as unknown as Record<string, unknown>).extra = 1),
        /\.img: extra: expected a field of message criu_kfd/,
      ],
      [(d) => (kfdOf(d).bo_entries[0]!.size = 0n), /\.img: bo_entries\[0\]\.size: expected a non-zero size/],
    ];
    for (const [edit, message] of cases) {
      const e = inputError(loadEdited(world, id, edit));
      expect(e.message.startsWith(`snapshot.world.saved.${id}.images: amdgpu-kfd-`)).toBe(true);
      expect(e.message).toMatch(message);
    }
  });

  it('the dump’s own fields: unknown keys, image sets, memory and tasks of another shape, a pid twice', () => {
    const { world, id } = split();
    const at = `snapshot.world.saved.${id}`;
    const cases: [(d: SavedDump) => void, string][] = [
      [
        (d) => ((d as unknown as Record<string, unknown>).extra = 1),
        `${at}.extra: expected one of images, memory, tasks, found "extra"`,
      ],
      [(d) => ((d.images as unknown as Record<string, unknown>).kfd = {}), `${at}.images.kfd: expected a list`],
      [
        (d) => d.memory.push({ pid: 100, gpu_id: 1, addr: 5 as unknown as bigint, content: {} }),
        `${at}.memory[0].addr: expected a "0x…" integer`,
      ],
      [
        (d) => d.tasks.push({ ...d.tasks[0]! }),
        `${at}.tasks[1].pid: expected a pid no other task has, found ${world.saved && (world.saved[id] as SavedDump).tasks[0]!.pid}`,
      ],
      [(d) => (d.tasks[0]!.fds = [{ fd: -1, id: 0 }]), `${at}.tasks[0].fds[0].fd: expected`],
    ];
    for (const [edit, message] of cases) expect(inputError(loadEdited(world, id, edit)).message).toContain(message);
  });

  it('a dump kept under the id of an object that is not a criu.dump, or of nothing', () => {
    const { world, id } = split();
    const other = Object.keys(world.objects).find((o) => o.startsWith('kfd.process#'))!;
    for (const key of [other, 'criu.dump#99999']) {
      const e = inputError(
        loadEdited(world, id, (d, copy) => {
          delete copy.saved![id];
          copy.saved![key] = d;
        }),
      );
      expect(e.message).toBe(
        `snapshot.world.saved.${key}: expected a criu.dump object of the world, found ${JSON.stringify(key)}`,
      );
    }
  });

  // A saved dump is CRIU's image directory in memory: whatever of it loads can be written as a
  // directory, and restores from that directory as from the dump.
  it('an edited saved dump is refused at load, or it is a directory the writer writes and that restores as the dump does', () => {
    const { world, id } = split();
    let [refused, loaded] = [0, 0];
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.nat(), (path, pick) => {
        const copy = thaw(world);
        editAlong(copy.saved![id] as unknown as Record<string, unknown>, path, pick);
        let edited: World;
        try {
          edited = restoreSnapshot(snapshotText(copy));
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          refused++;
          return;
        }
        loaded++;
        const saved = edited.saved![id] as SavedDump;
        const dir = mkdtempSync(join(tmpdir(), 'gpucr-saved-'));
        try {
          writeImageDir(dir, saved.images);
          writeCoreImage(dir, { tasks: saved.tasks, memory: saved.memory });
          const fromDump = restoreOn(thaw(edited), { dump: id });
          const fromDir = restoreOn(thaw(edited), { dir });
          expect(fromDir).toEqual(fromDump);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 300, seed: 16 },
    );
    expect(refused).toBeGreaterThan(20);
    expect(loaded).toBeGreaterThan(20);
  });
});

/** Walk down `path` through objects and arrays; change the number, bigint or bytes found there. */
function editAlong(v: Record<string, unknown>, path: number[], pick: number): void {
  for (const i of path) {
    const keys = Object.keys(v);
    if (keys.length === 0) return;
    const k = keys[i % keys.length]!;
    const child = v[k];
    if (typeof child === 'number') v[k] = [0, 1, child + 1, 2 ** 32 - 1, 2 ** 31][pick % 5];
    else if (typeof child === 'bigint') v[k] = [0n, child + 1n, 2n ** 64n - 1n, 1n << 40n][pick % 4];
    else if (child instanceof Uint8Array) v[k] = child.slice(0, pick % (child.length + 1));
    else if (Array.isArray(child) && pick % 7 === 0) v[k] = child.slice(1);
    else if (typeof child === 'object' && child !== null) {
      v = child as Record<string, unknown>;
      continue;
    }
    return;
  }
}

/** The outcome of a criu.restore with `args` on `w`: its result and the calls it issued. */
function restoreOn(w: World, args: Record<string, unknown>) {
  const r = applyInPlace(w, { call: 'criu.restore', args: decodeArgs(callDef('criu.restore')!.args, args, 'args') });
  const { issued, ...rest } = r.out;
  return { ret: r.ret, out: rest, issued };
}
