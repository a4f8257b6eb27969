/**
 * The KFD invariants (docs/invariants.md): each holds after every event of the
 * example logs, and each finds the violation it is about, seeded into a world or
 * produced by a known-buggy design variant.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import { InputError } from '../../src/errors.js';
import {
  allInvariants,
  checkInvariants,
  getInvariant,
  registerInvariant,
  selectInvariants,
} from '../../src/invariants/index.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import type { World } from '../../src/world/types.js';

const example = (name: string) => readFileSync(new URL(`../../docs/examples/${name}`, import.meta.url), 'utf8');
const KFD = [
  'kfd.file-refs',
  'kfd.handles-unique',
  'kfd.no-leaks',
  'kfd.refs-live',
  'kfd.restore-queues-wait',
  'kfd.vram-usage',
];

function run(text: string, opts: { until?: number; check?: boolean } = {}) {
  const { header, events } = readLog(text, 'x');
  const o: Parameters<typeof replay>[2] = { file: 'x' };
  if (opts.until !== undefined) o.until = opts.until;
  if (opts.check) o.invariants = selectInvariants(KFD);
  return replay(header, events, o);
}

function worldAt(name: string, until?: number): World {
  const rep = run(example(name), until === undefined ? {} : { until });
  expect(rep.ok).toBe(true);
  return rep.world;
}

function names(w: World): string[] {
  return [...new Set(checkInvariants(w, selectInvariants(KFD)).map((v) => v.invariant))];
}

function ids(w: World, kind: string): string[] {
  return Object.keys(w.objects).filter((id) => w.objects[id]!.kind === kind);
}

const ctx = <C>(w: World, id: string) => w.objects[id]!.context as C;

/** Change an object's context (machine contexts are frozen: replace the record with an edited copy). */
function edit<C>(w: World, id: string, f: (c: C) => void): C {
  const rec = structuredClone(w.objects[id]!);
  f(rec.context as C);
  w.objects[id] = rec;
  return rec.context as C;
}

describe('the invariant registry', () => {
  it('lists every KFD invariant with a description, sorted by name', () => {
    const all = allInvariants().map((i) => i.name);
    for (const n of KFD) expect(all).toContain(n);
    expect(all).toEqual([...all].sort());
    for (const n of KFD) expect(getInvariant(n)!.description.length).toBeGreaterThan(20);
  });

  it('takes invariants of other drivers by name, description and function', () => {
    const inv = registerInvariant('test.registry-demo', 'a world has a topology', (w) =>
      w.topology ? [] : [{ message: 'no topology' }],
    );
    expect(allInvariants()).toContain(inv);
    expect(selectInvariants(['test.registry-demo'])).toEqual([inv]);
    expect(() => registerInvariant('Bad Name', 'x', () => [])).toThrow(/<driver>\.<what>/);
    expect(() => registerInvariant('test.registry-demo', 'again', () => [])).toThrow(/twice/);
  });

  it('an unknown name is bad input that lists the known ones', () => {
    expect(() => selectInvariants(['kfd.nope'])).toThrow(InputError);
    expect(() => selectInvariants(['kfd.nope'])).toThrow(/--invariant: expected one of .*kfd\.file-refs/);
  });
});

describe('the KFD invariants hold on the examples, after every event', () => {
  for (const name of [
    'design-example.jsonl',
    'kfd-checkpoint-two-gpus.jsonl',
    'kfd-restore-resume.jsonl',
    'kfd-criu-errors.jsonl',
    'kfd-ioctl-errors.jsonl',
  ]) {
    it(name, () => {
      const rep = run(example(name), { check: true });
      expect(rep.violation).toBeUndefined();
      expect(rep.ok).toBe(true);
    });
  }
});

describe('each invariant finds its violation', () => {
  it('spec §5.4 step 3: the fget-leak variant leaks a render-node reference, kfd.file-refs finds it on the RESTORE line', () => {
    const text = example('kfd-restore-fget-leak.jsonl');
    const rep = run(text, { check: true });
    expect(rep.ok).toBe(false);
    const last = text.trimEnd().split('\n').length;
    expect(rep.violation!.line).toBe(last);
    expect(rep.violation!.call).toBe('AMDKFD_IOC_CRIU_OP');
    expect(rep.violation!.actual.ret).toBe(-22);
    expect(rep.violation!.violations.map((v) => v.invariant)).toEqual(['kfd.file-refs']);
    expect(rep.violation!.violations[0]!.message).toMatch(/^file#\d+ \(drm\) has 3 references but 2 can be counted/);
    // The objects involved: the caller's process, and the file whose count went up.
    expect(rep.violation!.involved!.processes[0]).toMatchObject({ pid: 200, role: 'caller' });
    expect(rep.violation!.involved!.changed.some((c) => c.kind === 'file')).toBe(true);
    // The fixed kernel checks pdd->drm_file before fget: the same log holds every invariant.
    const fixed = text.replace(',"variants":{"kfd-restore-devices":"fget-leak"}', '');
    expect(fixed).not.toBe(text);
    const ok = run(fixed, { check: true });
    expect(ok.violation).toBeUndefined();
    expect(ok.ok).toBe(true);
  });

  it('kfd.handles-unique: a BO in two idr slots', () => {
    const w = worldAt('kfd-checkpoint-two-gpus.jsonl');
    const idr = w.alloc_idr![ids(w, 'kfd.pdd')[0]!]!;
    idr[99] = idr[0]!;
    const v = checkInvariants(w, selectInvariants(['kfd.handles-unique']));
    expect(v.length).toBe(1);
    expect(v[0]!.message).toMatch(/is held twice/);
    expect(v[0]!.objects).toContain(idr[0]);
  });

  it('kfd.no-leaks: a BO no idr holds, a pdd no task lists, a GEM object nothing refers to', () => {
    const w = worldAt('kfd-checkpoint-two-gpus.jsonl');
    const pddId = ids(w, 'kfd.pdd')[0]!;
    const bo = w.alloc_idr![pddId]![0]!;
    delete w.alloc_idr![pddId]![0];
    // (vram_usage still counts it, so kfd.vram-usage notices too.)
    expect(names(w)).toContain('kfd.no-leaks');
    const v = checkInvariants(w, selectInvariants(['kfd.no-leaks']));
    expect(v.map((x) => x.objects)).toEqual([[bo]]);
    const w2 = worldAt('kfd-checkpoint-two-gpus.jsonl');
    w2.tasks[100]!.pdds = w2.tasks[100]!.pdds.slice(1);
    expect(checkInvariants(w2, selectInvariants(['kfd.no-leaks']))[0]!.message).toMatch(
      /is not in p->pdds of task 100/,
    );
    const w3 = worldAt('kfd-checkpoint-two-gpus.jsonl');
    w3.gems['gem#999'] = { ...Object.values(w3.gems)[0]!, id: 'gem#999', kgd_mems: [], dmabuf: null };
    expect(checkInvariants(w3, selectInvariants(['kfd.no-leaks']))[0]!.objects).toEqual(['gem#999']);
  });

  it('kfd.file-refs: a reference count above what the fd tables and the kernel hold', () => {
    const w = worldAt('design-example.jsonl');
    const kfd = w.tasks[100]!.fds[3]!;
    w.files[kfd]!.refs += 1;
    const v = checkInvariants(w, selectInvariants(['kfd.file-refs']));
    expect(v).toEqual([
      {
        invariant: 'kfd.file-refs',
        message: `${kfd} (kfd) has 2 references but 1 can be counted (fd 100:3)`,
        objects: [kfd],
      },
    ]);
  });

  it('kfd.refs-live: an fd whose file is gone, an idr slot whose BO is gone', () => {
    const w = worldAt('design-example.jsonl');
    w.tasks[100]!.fds[7] = 'file#404';
    w.alloc_idr![ids(w, 'kfd.pdd')[0]!]![5] = 'kfd.bo#404';
    const msgs = checkInvariants(w, selectInvariants(['kfd.refs-live'])).map((v) => v.message);
    expect(msgs).toContain('task:100 fd 7 refers to file#404, which is not an open file');
    expect(msgs.some((m) => /refers to kfd\.bo#404, which is not a live kfd\.bo/.test(m))).toBe(true);
  });

  it('kfd.refs-live: an alloc_idr left behind by a pdd that is gone', () => {
    const w = worldAt('design-example.jsonl');
    expect(checkInvariants(w, selectInvariants(['kfd.refs-live']))).toEqual([]);
    w.alloc_idr!['kfd.pdd#404'] = { 0: ids(w, 'kfd.bo')[0]! };
    const msgs = checkInvariants(w, selectInvariants(['kfd.refs-live'])).map((v) => v.message);
    expect(msgs).toContain('alloc_idr refers to kfd.pdd#404, which is not a live kfd.pdd');
  });

  it('spec §7.3: vram_usage is PAGE_ALIGN(size) per VRAM BO; kfd.vram-usage finds a pdd that says otherwise', () => {
    // kfd-ioctl-errors.jsonl line 12 allocates 5000 bytes of VRAM: 2 pages are charged.
    const w = worldAt('kfd-ioctl-errors.jsonl', 12);
    const pddId = ids(w, 'kfd.pdd')[0]!;
    expect(ctx<PddContext>(w, pddId).vram_usage).toBe(8192n);
    expect(checkInvariants(w, selectInvariants(['kfd.vram-usage']))).toEqual([]);
    edit<PddContext>(w, pddId, (p) => {
      p.vram_usage += 4096n;
    });
    const v = checkInvariants(w, selectInvariants(['kfd.vram-usage']));
    expect(v.length).toBe(1);
    expect(v[0]!.message).toMatch(/vram_usage is 0x3000, spec §7\.3 gives 0x2000 \(kfd\.bo#\d+ 0x2000\)/);
    // After the FREE (line 19) nothing is charged.
    const after = worldAt('kfd-ioctl-errors.jsonl', 19);
    expect(ctx<PddContext>(after, ids(after, 'kfd.pdd')[0]!).vram_usage).toBe(0n);
  });

  it('spec §5.4 step 1, §5.5 step 4: restored queues stay evicted until RESUME and the userptr worker', () => {
    // After RESTORE (line 35) and before RESUME: the restored queue exists, evicted.
    const w = worldAt('kfd-restore-resume.jsonl', 35);
    const proc = w.objects[w.tasks[200]!.kfd_process!]!;
    expect((proc.value as { alive: { mmu: string } }).alive.mmu).toBe('blocked');
    const q = Object.values(w.tasks[200]!.queues)[0]!;
    expect(w.objects[q]!.value).toBe('evicted');
    expect(checkInvariants(w, selectInvariants(['kfd.restore-queues-wait']))).toEqual([]);
    w.objects[q] = { ...w.objects[q]!, value: 'active' };
    const v = checkInvariants(w, selectInvariants(['kfd.restore-queues-wait']));
    expect(v[0]!.message).toBe(`${q} of task 200 is active between RESTORE and RESUME`);
    // After the worker (the last line) the queue runs and the invariant has nothing to say.
    const done = worldAt('kfd-restore-resume.jsonl');
    const q2 = Object.values(done.tasks[200]!.queues)[0]!;
    expect(done.objects[q2]!.value).toBe('active');
    expect(checkInvariants(done, selectInvariants(['kfd.restore-queues-wait']))).toEqual([]);
  });

  it('every violation names its invariant and the ids of the objects involved', () => {
    const w = worldAt('kfd-checkpoint-two-gpus.jsonl');
    const bo = ids(w, 'kfd.bo').find((id) => !ctx<BoContext>(w, id).internal)!;
    edit<BoContext>(w, bo, (b) => {
      b.gem = 'gem#404';
    });
    const v = checkInvariants(w, allInvariants());
    expect(v.length).toBeGreaterThan(0);
    for (const x of v) {
      expect(x.invariant).toMatch(/^[a-z0-9]+\./);
      expect(x.objects?.length).toBeGreaterThan(0);
    }
    expect(v.some((x) => x.invariant === 'kfd.refs-live' && x.objects!.includes(bo))).toBe(true);
  });
});
