/**
 * The KFD invariants (design "Invariants"; docs/invariants.md). Each is a function
 * of the world alone, so replay --check and the explorer run them after any event.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import type { EventContext } from '../../machines/kfd/event.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { QueueContext } from '../../machines/kfd/queue.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../uapi/index.js';
import { allocIdr } from '../world/idr.js';
import type { ObjectRecord, Task, World } from '../world/types.js';
import { fileReferenceCounters, registerFileReferences, registerInvariant, type Violation } from './index.js';

const hex = (v: bigint) => (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

function objectsOf<C>(w: World, kind: string): [string, ObjectRecord<C>][] {
  const out: [string, ObjectRecord<C>][] = [];
  for (const id of Object.keys(w.objects)) {
    const rec = w.objects[id]!;
    if (rec.kind === kind) out.push([id, rec as ObjectRecord<C>]);
  }
  return out;
}

function ctx<C>(w: World, id: string, kind: string): C | undefined {
  const rec = w.objects[id];
  return rec && rec.kind === kind ? (rec.context as C) : undefined;
}

function liveTasks(w: World): Task[] {
  return Object.values(w.tasks).filter((t) => t.alive);
}

/** Whether a state value has the given path (`alive.mmu.blocked`). */
function valueHas(value: unknown, path: string): boolean {
  let v: unknown = value;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof v === 'string') return v === p && i === parts.length - 1;
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, p)) return false;
    v = (v as Record<string, unknown>)[p];
  }
  return true;
}

// ---- handles unique per namespace ---------------------------------------------------

registerInvariant(
  'kfd.handles-unique',
  'handles are unique per namespace: a BO sits in one idr slot of one pdd, a process has one pdd per GPU and distinct user gpu_ids, queue and event ids match their table keys',
  (w) => {
    const out: Violation[] = [];
    const slot = new Map<string, string>();
    for (const t of Object.values(w.tasks)) {
      const gpus = new Map<number, string>();
      const users = new Map<number, string>();
      for (const pddId of t.pdds) {
        const p = ctx<PddContext>(w, pddId, 'kfd.pdd');
        if (!p) continue; // kfd.refs-live reports it
        const g = gpus.get(p.gpu_id);
        if (g)
          out.push({
            message: `task ${t.pid} has two pdds for gpu_id ${p.gpu_id}: ${g} and ${pddId}`,
            objects: [g, pddId],
          });
        gpus.set(p.gpu_id, pddId);
        const u = users.get(p.user_gpu_id);
        if (u)
          out.push({
            message: `task ${t.pid} has two pdds with user_gpu_id ${p.user_gpu_id}: ${u} and ${pddId}`,
            objects: [u, pddId],
          });
        users.set(p.user_gpu_id, pddId);
        const places: [string, string][] = [
          ...Object.entries(allocIdr(w, pddId)).map(([h, b]): [string, string] => [`${pddId} alloc_idr[${h}]`, b]),
          ...p.internal_bos.map((b, i): [string, string] => [`${pddId} internal_bos[${i}]`, b]),
        ];
        for (const [where, boId] of places) {
          const seen = slot.get(boId);
          if (seen) out.push({ message: `${boId} is held twice: by ${seen} and by ${where}`, objects: [boId, pddId] });
          else slot.set(boId, where);
        }
        for (const h of Object.keys(allocIdr(w, pddId))) {
          const n = Number(h);
          if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff)
            out.push({ message: `${pddId} alloc_idr has a handle ${h} outside 0..INT_MAX`, objects: [pddId] });
        }
      }
      const queues = new Map<string, number>();
      for (const [k, q] of Object.entries(t.queues)) {
        const c = ctx<QueueContext>(w, q, 'kfd.queue');
        if (c && c.queue_id !== Number(k))
          out.push({ message: `task ${t.pid} queues[${k}] is ${q} whose queue_id is ${c.queue_id}`, objects: [q] });
        const seen = queues.get(q);
        if (seen !== undefined)
          out.push({ message: `${q} is queue ${seen} and queue ${k} of task ${t.pid}`, objects: [q] });
        queues.set(q, Number(k));
      }
      for (const [k, e] of Object.entries(t.events)) {
        const c = ctx<EventContext>(w, e, 'kfd.event');
        if (c && c.event_id !== Number(k))
          out.push({ message: `task ${t.pid} events[${k}] is ${e} whose event_id is ${c.event_id}`, objects: [e] });
      }
    }
    return out;
  },
);

// ---- no leaks ---------------------------------------------------------------------

/** Strings anywhere inside a value (for references held by other drivers' objects). */
function mentions(v: unknown, id: string, depth = 0): boolean {
  if (v === id) return true;
  if (depth > 32 || typeof v !== 'object' || v === null) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (mentions(x, id, depth + 1)) return true;
  return false;
}

registerInvariant(
  'kfd.no-leaks',
  "every object is reachable from a live handle or a kernel reference: a kfd_process from its task, a pdd from p->pdds, a BO from an idr slot or the pdd's kernel BOs, queues, events and SVM ranges from their tables, a GEM object from a kgd_mem or a dma-buf",
  (w) => {
    const out: Violation[] = [];
    const held = new Set<string>();
    for (const t of liveTasks(w)) {
      if (t.kfd_process) held.add(t.kfd_process);
      for (const pddId of t.pdds) {
        held.add(pddId);
        const p = ctx<PddContext>(w, pddId, 'kfd.pdd');
        if (!p) continue;
        for (const b of Object.values(allocIdr(w, pddId))) held.add(b);
        for (const b of p.internal_bos) held.add(b);
        for (const q of p.queues) held.add(`${q} in pdd`);
      }
      for (const q of Object.values(t.queues)) held.add(q);
      for (const e of Object.values(t.events)) held.add(e);
      for (const r of t.svm_ranges) held.add(r);
    }
    for (const id of Object.keys(w.objects)) {
      const rec = w.objects[id]!;
      if (!rec.kind.startsWith('kfd.')) continue;
      const pid = (rec.context as { pid?: number }).pid;
      if (!held.has(id)) {
        const holder: Record<string, string> = {
          'kfd.process': `the kfd_process of task ${pid}`,
          'kfd.pdd': `in p->pdds of task ${pid}`,
          'kfd.bo': "in any pdd's alloc_idr or kernel BOs",
          'kfd.queue': `in the queue table of task ${pid}`,
          'kfd.event': `in the event table of task ${pid}`,
          'kfd.svm_range': `in the SVM ranges of task ${pid}`,
        };
        out.push({ message: `${id} (${rec.kind}) is leaked: it is not ${holder[rec.kind] ?? 'held'}`, objects: [id] });
      }
      if (rec.kind === 'kfd.queue' && held.has(id) && !held.has(`${id} in pdd`))
        out.push({ message: `${id} is in the queue table of task ${pid} but on no pdd's queue list`, objects: [id] });
    }
    const others = Object.values(w.objects).filter((r) => !r.kind.startsWith('kfd.'));
    for (const id of Object.keys(w.gems)) {
      const g = w.gems[id]!;
      if (g.kgd_mems.length > 0 || g.dmabuf !== null) continue;
      if (others.some((r) => mentions(r.context, id))) continue;
      out.push({ message: `${id} is leaked: no kgd_mem, dma-buf or other object refers to it`, objects: [id] });
    }
    for (const t of Object.values(w.tasks)) {
      if (t.alive) continue;
      if (Object.keys(t.fds).length > 0 || t.kfd_process !== null)
        out.push({ message: `task ${t.pid} exited but still holds fds or a kfd_process`, objects: [`task:${t.pid}`] });
    }
    return out;
  },
);

// ---- file reference counts ------------------------------------------------------------

registerFileReferences('kfd.pdd drm_file', function* (w) {
  for (const [id, rec] of objectsOf<PddContext>(w, 'kfd.pdd'))
    if (rec.context.drm_file) yield [rec.context.drm_file, `${id} drm_file`] as const;
});

registerFileReferences('kfd.bo dmabuf', function* (w) {
  for (const [id, rec] of objectsOf<BoContext>(w, 'kfd.bo'))
    if (rec.context.dmabuf) yield [rec.context.dmabuf, `${id} dmabuf`] as const;
});

registerInvariant(
  'kfd.file-refs',
  "every open file's reference count equals its fd-table entries plus the kernel references that can be counted (a pdd's drm_file, a kgd_mem's dma-buf, and those other drivers register)",
  (w) => {
    const holders = new Map<string, string[]>();
    const add = (file: string, holder: string) => {
      const l = holders.get(file);
      if (l) l.push(holder);
      else holders.set(file, [holder]);
    };
    for (const t of liveTasks(w)) for (const [fd, f] of Object.entries(t.fds)) add(f, `fd ${t.pid}:${fd}`);
    for (const [, count] of fileReferenceCounters()) for (const [f, holder] of count(w)) add(f, holder);
    const out: Violation[] = [];
    for (const id of Object.keys(w.files)) {
      const f = w.files[id]!;
      const h = holders.get(id) ?? [];
      if (f.refs !== h.length)
        out.push({
          message: `${id} (${f.kind}) has ${f.refs} reference${f.refs === 1 ? '' : 's'} but ${h.length} can be counted${h.length ? ` (${h.join(', ')})` : ''}`,
          objects: [id],
        });
    }
    return out;
  },
);

// ---- no use after free -----------------------------------------------------------------

registerInvariant(
  'kfd.refs-live',
  'every reference points to a live object of the right kind (no use after free): task tables, pdd idr slots and the alloc_idr index itself, drm files and queue lists, BO GEM objects and dma-bufs, GEM back-references, dma-buf files',
  (w) => {
    const out: Violation[] = [];
    const bad = (from: string, to: string, what: string) =>
      out.push({ message: `${from} refers to ${to}, which is not ${what}`, objects: [from, to] });
    const isKind = (id: string, kind: string) => w.objects[id]?.kind === kind;
    const gpuIds = new Set(w.topology.gpus.map((g) => g.gpu_id));
    for (const t of liveTasks(w)) {
      const from = `task:${t.pid}`;
      for (const [fd, f] of Object.entries(t.fds)) if (!w.files[f]) bad(`${from} fd ${fd}`, f, 'an open file');
      if (t.kfd_process && !isKind(t.kfd_process, 'kfd.process')) bad(from, t.kfd_process, 'a live kfd.process');
      if (t.kfd_process && (w.objects[t.kfd_process]?.context as { pid?: number } | undefined)?.pid !== t.pid)
        bad(from, t.kfd_process, `the kfd_process of pid ${t.pid}`);
      for (const p of t.pdds) if (!isKind(p, 'kfd.pdd')) bad(from, p, 'a live kfd.pdd');
      for (const q of Object.values(t.queues)) if (!isKind(q, 'kfd.queue')) bad(from, q, 'a live kfd.queue');
      for (const e of Object.values(t.events)) if (!isKind(e, 'kfd.event')) bad(from, e, 'a live kfd.event');
      for (const r of t.svm_ranges) if (!isKind(r, 'kfd.svm_range')) bad(from, r, 'a live kfd.svm_range');
    }
    for (const [id, rec] of objectsOf<PddContext>(w, 'kfd.pdd')) {
      const p = rec.context;
      for (const b of [...Object.values(allocIdr(w, id)), ...p.internal_bos]) {
        const c = ctx<BoContext>(w, b, 'kfd.bo');
        if (!c) bad(id, b, 'a live kfd.bo');
        else if (c.pid !== p.pid || c.gpu_id !== p.gpu_id)
          bad(id, b, `a BO of pid ${p.pid} on gpu_id ${p.gpu_id} (it is pid ${c.pid}, gpu_id ${c.gpu_id})`);
      }
      if (p.drm_file) {
        const f = w.files[p.drm_file];
        if (!f || f.kind !== 'drm') bad(id, p.drm_file, 'an open render-node file');
        else if (f.gpu_id !== p.gpu_id) bad(id, p.drm_file, `a render node of gpu_id ${p.gpu_id}`);
      }
      for (const q of p.queues) if (!isKind(q, 'kfd.queue')) bad(id, q, 'a live kfd.queue');
    }
    // The world's alloc_idr index (src/world/idr.ts) outlives no pdd: idr_destroy goes with it.
    for (const pddId of Object.keys(w.alloc_idr ?? {}))
      if (!isKind(pddId, 'kfd.pdd')) bad('alloc_idr', pddId, 'a live kfd.pdd');
    for (const [id, rec] of objectsOf<BoContext>(w, 'kfd.bo')) {
      const b = rec.context;
      const gem = w.gems[b.gem];
      if (!gem) bad(id, b.gem, 'a live GEM object');
      else if (!gem.kgd_mems.includes(id)) bad(id, b.gem, `a GEM object whose kgd_mems list ${id}`);
      if (b.dmabuf) {
        const f = w.files[b.dmabuf];
        if (!f || f.kind !== 'dmabuf') bad(id, b.dmabuf, 'an open dma-buf file');
      }
      for (const { vm } of b.attachments) if (!gpuIds.has(vm)) bad(id, `gpu_id ${vm}`, 'a GPU of the topology');
    }
    for (const [id, rec] of objectsOf<QueueContext>(w, 'kfd.queue'))
      if (!gpuIds.has(rec.context.gpu_id)) bad(id, `gpu_id ${rec.context.gpu_id}`, 'a GPU of the topology');
    for (const id of Object.keys(w.gems)) {
      const g = w.gems[id]!;
      for (const m of g.kgd_mems) {
        const c = ctx<BoContext>(w, m, 'kfd.bo');
        if (!c) bad(id, m, 'a live kfd.bo');
        else if (c.gem !== id) bad(id, m, `a kgd_mem of ${id}`);
      }
      if (g.dmabuf) {
        const f = w.files[g.dmabuf];
        if (!f || f.kind !== 'dmabuf' || f.gem !== id) bad(id, g.dmabuf, `an open dma-buf file of ${id}`);
      }
    }
    for (const id of Object.keys(w.files)) {
      const f = w.files[id]!;
      if (f.kind === 'dmabuf' && !w.gems[f.gem]) bad(id, f.gem, 'a live GEM object');
      if (f.kind === 'kfd' && !w.tasks[f.pid]) bad(id, `task:${f.pid}`, 'a task');
    }
    return out;
  },
);

// ---- vram_usage ----------------------------------------------------------------------

registerInvariant(
  'kfd.vram-usage',
  "each pdd's vram_usage equals the sum, over the BOs in its alloc_idr allocated with the VRAM flag and not imported, of amdgpu_bo_size (spec §7.3)",
  (w) => {
    const out: Violation[] = [];
    for (const [id, rec] of objectsOf<PddContext>(w, 'kfd.pdd')) {
      const p = rec.context;
      let expected = 0n;
      const counted: string[] = [];
      for (const b of Object.values(allocIdr(w, id))) {
        const c = ctx<BoContext>(w, b, 'kfd.bo');
        if (!c || c.is_imported || (c.alloc_flags & F.VRAM) === 0) continue;
        expected += c.size;
        counted.push(`${b} ${hex(c.size)}`);
      }
      if (p.vram_usage !== expected)
        out.push({
          message: `${id} vram_usage is ${hex(p.vram_usage)}, spec §7.3 gives ${hex(expected)} (${counted.length ? counted.join(' + ') : 'no VRAM BO'})`,
          objects: [id],
        });
    }
    return out;
  },
);

// ---- restored queues wait for RESUME and the userptr worker ------------------------------

registerInvariant(
  'kfd.restore-queues-wait',
  'the queues of a restored process do not run before RESUME and the userptr restore worker: while its kfd_process is between RESTORE and the worker, every queue is evicted and every pdd holds an eviction (spec §5.4 step 1, §5.5 step 4)',
  (w) => {
    const out: Violation[] = [];
    for (const t of liveTasks(w)) {
      if (!t.kfd_process) continue;
      const rec = w.objects[t.kfd_process];
      if (!rec) continue;
      const stage = valueHas(rec.value, 'alive.mmu.blocked')
        ? 'between RESTORE and RESUME'
        : valueHas(rec.value, 'alive.mmu.userptrRestorePending')
          ? 'between RESUME and the userptr restore worker'
          : undefined;
      if (!stage) continue;
      for (const q of Object.values(t.queues)) {
        const qr = w.objects[q];
        if (qr && valueHas(qr.value, 'active'))
          out.push({ message: `${q} of task ${t.pid} is active ${stage}`, objects: [q, t.kfd_process] });
      }
      for (const pddId of t.pdds) {
        const pr = w.objects[pddId];
        if (pr && !valueHas(pr.value, 'alive.queues.evicted'))
          out.push({ message: `${pddId} of task ${t.pid} runs its queues ${stage}`, objects: [pddId, t.kfd_process] });
      }
    }
    return out;
  },
);
