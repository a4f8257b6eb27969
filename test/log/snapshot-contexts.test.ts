/**
 * Machine contexts read back from snapshots (machines/context-schema.ts,
 * src/log/snapshot-contexts.ts): every context gpucr builds loads back, and a context
 * it never builds is bad input naming the field, before any handler sees it.
 */
import { describe, expect, it } from 'vitest';
import { applyAction } from '../../src/explore/run-log.js';
import { SUITE } from '../../src/explore/coverage-suite.js';
import { restoreSnapshot, snapshotText, worldHash } from '../../src/log/snapshot.js';
import { contextSpecOf, MACHINES } from '../../src/world/objects.js';
import { thaw } from '../../src/world/step.js';
import type { World } from '../../src/world/types.js';
import { example, inputError, worldOf } from './snapshot-helpers.js';

/** The snapshot of `w` after `edit` on a copy of it, with the hash of the edited world. */
function edited(w: World, edit: (copy: World) => void): string {
  const copy = thaw(w);
  edit(copy);
  return snapshotText(copy);
}

/** Breadth-first over a model's actions, at most `limit` distinct worlds. */
function reachable(build: () => ReturnType<(typeof SUITE)[number]['build']>, depth: number, limit: number): World[] {
  const model = build();
  const seen = new Map<string, World>([[worldHash(model.initial), model.initial]]);
  let frontier = [model.initial];
  for (let d = 0; d < depth && seen.size < limit; d++) {
    const next: World[] = [];
    for (const w of frontier)
      for (const a of model.actions(w)) {
        const copy = thaw(w);
        applyAction(copy, a);
        const h = worldHash(copy);
        if (seen.has(h) || seen.size >= limit) continue;
        seen.set(h, copy);
        next.push(copy);
      }
    frontier = next;
  }
  return [...seen.values()];
}

const EXAMPLES = [
  'criu-roundtrip.jsonl',
  'kfd-restore-resume.jsonl',
  'amdgpu-upstream-restore.jsonl',
  'ttm-interrupted-restore.jsonl',
  'i915-suspend-faults.jsonl',
];

describe('machine contexts in snapshots', () => {
  it('every registered kind has a context schema', () => {
    for (const kind of Object.keys(MACHINES)) expect(contextSpecOf(kind), kind).toBeDefined();
  });

  it('every world the coverage suite reaches loads back from its snapshot (every kind of every machine)', () => {
    const kinds = new Set<string>();
    for (const config of SUITE)
      for (const w of reachable(config.build, Math.min(config.maxDepth, 3), 60)) {
        const text = snapshotText(w);
        expect(() => restoreSnapshot(text), config.name).not.toThrow();
        for (const o of Object.values(w.objects)) kinds.add(o.kind);
      }
    // The suite drives every machine, so every kind's schema met real contexts.
    expect([...kinds].sort()).toEqual(Object.keys(MACHINES).sort());
  });

  it('a context field missing, of another type, or unknown is refused at that field', () => {
    for (const name of EXAMPLES) {
      const w = worldOf(example(name));
      // Two objects of each kind: the edits are per field, the same for every object of a kind.
      const perKind = new Map<string, number>();
      for (const [id, o] of Object.entries(w.objects)) {
        const seen = perKind.get(o.kind) ?? 0;
        perKind.set(o.kind, seen + 1);
        if (seen >= 2) continue;
        const ctx = o.context as Record<string, unknown>;
        for (const key of Object.keys(ctx)) {
          const at = new RegExp(`^snapshot\\.world\\.objects\\.${id.replace('.', '\\.')}\\.context\\.${key}\\b`);
          const missing = edited(w, (x) => delete (x.objects[id]!.context as Record<string, unknown>)[key]);
          expect(inputError(() => restoreSnapshot(missing)).message, `${name} ${id} without ${key}`).toMatch(at);
          const v = ctx[key];
          // A value of a type the field never holds: a boolean for anything but a boolean.
          const other = typeof v === 'boolean' ? 'yes' : true;
          const wrong = edited(w, (x) => ((x.objects[id]!.context as Record<string, unknown>)[key] = other));
          expect(inputError(() => restoreSnapshot(wrong)).message, `${name} ${id}.${key} = ${other}`).toMatch(at);
        }
        const extra = edited(w, (x) => ((x.objects[id]!.context as Record<string, unknown>).extra_field = 1));
        expect(inputError(() => restoreSnapshot(extra)).message).toMatch(
          new RegExp(`context\\.extra_field: expected a field of a ${o.kind.replace('.', '\\.')} context`),
        );
      }
    }
  });

  it('ids a context holds must name world members of the right kind', () => {
    const w = worldOf(example('kfd-restore-resume.jsonl'));
    const idOf = (kind: string) => Object.keys(w.objects).find((id) => w.objects[id]!.kind === kind)!;
    const [pdd, bo, queue] = [idOf('kfd.pdd'), idOf('kfd.bo'), idOf('kfd.queue')];
    const ctx = (x: World, id: string) => x.objects[id]!.context as Record<string, unknown>;
    const cases: [(x: World) => void, RegExp][] = [
      [
        (x) => (ctx(x, pdd).drm_file = 'file#999'),
        /pdd#\d+\.context\.drm_file: expected a file of the world, found "file#999"/,
      ],
      [(x) => (ctx(x, pdd).queues = [bo]), /context\.queues\[0\]: expected a kfd\.queue object of the world/],
      [(x) => (ctx(x, bo).gem = 'gem#999'), /bo#\d+\.context\.gem: expected a GEM object of the world/],
      [(x) => (ctx(x, bo).pid = 4242), /bo#\d+\.context\.pid: expected the pid of a task of the world, found 4242/],
      [
        (x) => (ctx(x, queue).gpu_id = 7),
        /queue#\d+\.context\.gpu_id: expected the gpu_id of a GPU of the topology, found 7/,
      ],
    ];
    for (const [edit, re] of cases) expect(inputError(() => restoreSnapshot(edited(w, edit))).message).toMatch(re);
  });

  it('ranges: a negative count, a u64 above 2^64-1 and a malformed id are refused', () => {
    const w = worldOf(example('kfd-restore-resume.jsonl'));
    const bo = Object.keys(w.objects).find((id) => w.objects[id]!.kind === 'kfd.bo')!;
    const ctx = (x: World) => x.objects[bo]!.context as Record<string, unknown>;
    const cases: [(x: World) => void, RegExp][] = [
      [(x) => (ctx(x).mapped_to_gpu_memory = -1), /context\.mapped_to_gpu_memory: expected a value ≥ 0, found -1/],
      [(x) => (ctx(x).size = 2n ** 64n), /context\.size: expected a value ≤ 18446744073709551615/],
      [(x) => (ctx(x).gem = 'gem 3'), /context\.gem: expected a string matching/],
      [(x) => (ctx(x).alloc_flags = 1.5), /context\.alloc_flags: expected an integer, found 1\.5/],
      [
        (x) => (ctx(x).attachments = [{ vm: 1 }]),
        /context\.attachments\[0\]\.is_mapped: expected true or false, found nothing/,
      ],
    ];
    for (const [edit, re] of cases) expect(inputError(() => restoreSnapshot(edited(w, edit))).message).toMatch(re);
  });
});

describe('the stores beside the machine objects in snapshots', () => {
  const w = worldOf(example('amdgpu-upstream-restore.jsonl'));
  const first = <T>(r: Record<string, T> | undefined) => Object.entries(r!)[0]!;
  const [pdd, idr] = first(w.alloc_idr);
  const [drmFile, drm] = first(w.drm);
  const [gemId] = first(w.gems);
  const gpu = w.topology.gpus[0]!.gpu_id;
  const kfdFile = Object.keys(w.files).find((f) => w.files[f]!.kind === 'kfd')!;
  const esc = (id: string) => id.replace(/\./g, '\\.');

  it('every index entry names a member of the right kind', () => {
    const [handle] = first(idr);
    const [drmHandle] = first(drm.object_idr);
    const cases: [(x: World) => void, RegExp][] = [
      [
        (x) => (x.alloc_idr![pdd]![Number(handle)] = gemId),
        new RegExp(`alloc_idr\\.${esc(pdd)}\\.${handle}: expected a kfd\\.bo object of the world, found "${gemId}"`),
      ],
      [(x) => (x.alloc_idr!['kfd.bo#999'] = {}), /alloc_idr\.kfd\.bo#999: expected a kfd\.pdd object of the world/],
      [
        (x) => (x.drm![drmFile]!.object_idr[Number(drmHandle)] = 'gem#999'),
        new RegExp(`drm\\.${esc(drmFile)}\\.object_idr\\.${drmHandle}: expected a GEM object of the world`),
      ],
      [(x) => (x.drm![kfdFile] = drm), new RegExp(`drm\\.${kfdFile}: expected a drm file of the world`)],
      [
        (x) => (x.gems[gemId]!.object = pdd),
        new RegExp(`gems\\.${gemId}\\.object: expected a amdgpu\\.gem_bo object of the world`),
      ],
      [(x) => delete x.next.mmap[gpu], new RegExp(`next\\.mmap\\.${gpu}: expected`)],
    ];
    for (const [edit, re] of cases) expect(inputError(() => restoreSnapshot(edited(w, edit))).message).toMatch(re);
  });

  it('their fields have their types, ranges and names', () => {
    const cases: [(x: World) => void, RegExp][] = [
      [
        (x) => ((x.gems[gemId] as { domain: string }).domain = 'LMEM'),
        /\.domain: expected one of "VRAM", "GTT", "CPU"/,
      ],
      [(x) => ((x.gems[gemId] as { size: unknown }).size = 4096), /\.size: expected a "0x…" integer, found 4096/],
      [(x) => (x.drm![drmFile]!.object_idr[0] = gemId), /object_idr\.0: expected a key that is a value ≥ 1, found "0"/],
      [(x) => (x.faults = { nowhere: { errno: 5, after: 0, count: 1 } }), /faults\.nowhere: expected a fault site \(/],
      [(x) => (x.oopses = [{ pid: null, call: 'x' } as never]), /oopses\[0\]\.where: expected a string, found nothing/],
      [
        (x) => ((x.files[kfdFile] as { kind: string }).kind = 'pipe'),
        /\.kind: expected one of "tty", "kfd", "drm", "dmabuf", found "pipe"/,
      ],
      [(x) => delete (x.files[drmFile] as { gpu_id?: number }).gpu_id, /\.gpu_id: expected a number, found nothing/],
      [
        (x) => ((x.files[drmFile] as { gpu_id: number }).gpu_id = 7),
        /\.gpu_id: expected the gpu_id of a GPU of the topology, found 7/,
      ],
      // "03" is not the property fd 3: handlers would never find it.
      [
        (x) => (x.tasks[100]!.fds = { ['03' as never]: x.tasks[100]!.fds[0]! }),
        /tasks\.100\.fds\.03: expected a key that is an integer key written without a sign or leading zeros, found "03"/,
      ],
      [
        (x) => (x.kfd_vram_used = { ['-0' as never]: 0n }),
        /kfd_vram_used\.-0: expected a key that is an integer key written/,
      ],
      [(x) => ((x.tasks[100] as { nice?: number }).nice = 1), /tasks\.100\.nice: expected a field of a task/],
      [(x) => (x.tasks[100]!.caps = [1 as never]), /tasks\.100\.caps\[0\]: expected a string, found 1/],
      [(x) => (x.tasks[100]!.ptrace_parent = 0), /tasks\.100\.ptrace_parent: expected a value ≥ 1, found 0/],
      [(x) => ((x.next as { pages?: number }).pages = 1), /next\.pages: expected one of object, file, gem, mmap/],
      [(x) => ((x.next as { object: number }).object = 0), /next\.object: expected an integer ≥ 1, found 0/],
      [(x) => ((x.next as { file: number }).file = 0), /next\.file: expected an integer ≥ 1, found 0/],
      [(x) => delete (x.next as { gem?: number }).gem, /next\.gem: expected an integer ≥ 1, found nothing/],
      [(x) => ((x.next as { gem: number }).gem = 2 ** 32), /next\.gem: expected an integer ≤ 4294967295/],
      [(x) => (x.next.mmap[7] = 0n), /next\.mmap\.7: expected the gpu_id of a GPU of the topology, found "7"/],
    ];
    for (const [edit, re] of cases) expect(inputError(() => restoreSnapshot(edited(w, edit))).message).toMatch(re);
  });
});
