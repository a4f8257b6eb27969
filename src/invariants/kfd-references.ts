/**
 * The KFD reference invariants (docs/invariants.md), the two sides of one graph:
 *  - `kfd.no-leaks`: every object is held by someone (a live handle or a kernel reference);
 *  - `kfd.refs-live`: everything held is a live object of the right kind (no use after free).
 * Each check walks the holders one kernel object at a time: tasks, pdds, BOs, queues,
 * GEM objects, files.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { QueueContext } from '../../machines/kfd/queue.js';
import { allocIdr } from '../world/idr.js';
import type { ObjectRecord, World } from '../world/types.js';
import type { Violation } from './index.js';
import { ctx, liveTasks, mentions } from './kfd-world.js';
import { everyGem, everyObject, objectsOfKind } from '../world/objects-by-kind.js';

// ---- no leaks ---------------------------------------------------------------------

export function noLeaks(w: World): Violation[] {
  const out: Violation[] = [];
  leakedKfdObjects(w, heldByLiveTasks(w), out);
  leakedGems(w, out);
  exitedTaskHolds(w, out);
  return out;
}

/**
 * Every id a live task reaches through its tables and its pdds. A queue on a pdd's
 * queue list is also held as `<id> in pdd`, to tell the two lists apart.
 */
function heldByLiveTasks(w: World): Set<string> {
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
  return held;
}

/** A kfd.* object nobody holds, and a queue in its task's table but on no pdd's list. */
function leakedKfdObjects(w: World, held: Set<string>, out: Violation[]): void {
  for (const [id, rec] of everyObject(w)) {
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
}

/** A GEM object held by no kgd_mem, no dma-buf and no object of another driver. */
function leakedGems(w: World, out: Violation[]): void {
  // The objects of other drivers, gathered only when a GEM object has no kgd_mem and no
  // dma-buf (most checks meet none: every KFD BO's GEM object has its kgd_mem).
  let others: ObjectRecord[] | undefined;
  for (const [id, g] of everyGem(w)) {
    if (g.kgd_mems.length > 0 || g.dmabuf !== null) continue;
    others ??= everyObject(w)
      .map(([, r]) => r)
      .filter((r) => !r.kind.startsWith('kfd.'));
    if (others.some((r) => mentions(r.context, id))) continue;
    out.push({ message: `${id} is leaked: no kgd_mem, dma-buf or other object refers to it`, objects: [id] });
  }
}

/** An exited task's files are closed and its kfd_process released. */
function exitedTaskHolds(w: World, out: Violation[]): void {
  for (const t of Object.values(w.tasks)) {
    if (t.alive) continue;
    if (Object.keys(t.fds).length > 0 || t.kfd_process !== null)
      out.push({ message: `task ${t.pid} exited but still holds fds or a kfd_process`, objects: [`task:${t.pid}`] });
  }
}

// ---- no use after free -----------------------------------------------------------------

/** Reports that `from` refers to `to`, which is not `what`. */
type BadReference = (from: string, to: string, what: string) => void;

export function refsLive(w: World): Violation[] {
  const out: Violation[] = [];
  const bad: BadReference = (from, to, what) =>
    out.push({ message: `${from} refers to ${to}, which is not ${what}`, objects: [from, to] });
  const gpuIds = new Set(w.topology.gpus.map((g) => g.gpu_id));
  taskRefs(w, bad);
  pddRefs(w, bad);
  allocIdrRefs(w, bad);
  boRefs(w, gpuIds, bad);
  queueRefs(w, gpuIds, bad);
  gemRefs(w, bad);
  fileRefs(w, bad);
  return out;
}

const isKind = (w: World, id: string, kind: string) => w.objects[id]?.kind === kind;

/** A live task's fds, kfd_process (of its own pid), pdds, queues, events and SVM ranges. */
function taskRefs(w: World, bad: BadReference): void {
  for (const t of liveTasks(w)) {
    const from = `task:${t.pid}`;
    for (const [fd, f] of Object.entries(t.fds)) if (!w.files[f]) bad(`${from} fd ${fd}`, f, 'an open file');
    if (t.kfd_process && !isKind(w, t.kfd_process, 'kfd.process')) bad(from, t.kfd_process, 'a live kfd.process');
    if (t.kfd_process && (w.objects[t.kfd_process]?.context as { pid?: number } | undefined)?.pid !== t.pid)
      bad(from, t.kfd_process, `the kfd_process of pid ${t.pid}`);
    for (const p of t.pdds) if (!isKind(w, p, 'kfd.pdd')) bad(from, p, 'a live kfd.pdd');
    for (const q of Object.values(t.queues)) if (!isKind(w, q, 'kfd.queue')) bad(from, q, 'a live kfd.queue');
    for (const e of Object.values(t.events)) if (!isKind(w, e, 'kfd.event')) bad(from, e, 'a live kfd.event');
    for (const r of t.svm_ranges) if (!isKind(w, r, 'kfd.svm_range')) bad(from, r, 'a live kfd.svm_range');
  }
}

/** A pdd's idr slots and kernel BOs (of its pid and GPU), its drm_file and its queue list. */
function pddRefs(w: World, bad: BadReference): void {
  for (const [id, rec] of objectsOfKind<PddContext>(w, 'kfd.pdd')) {
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
    for (const q of p.queues) if (!isKind(w, q, 'kfd.queue')) bad(id, q, 'a live kfd.queue');
  }
}

/** The world's alloc_idr index (src/world/idr.ts) outlives no pdd: idr_destroy goes with it. */
function allocIdrRefs(w: World, bad: BadReference): void {
  for (const pddId of Object.keys(w.alloc_idr ?? {}))
    if (!isKind(w, pddId, 'kfd.pdd')) bad('alloc_idr', pddId, 'a live kfd.pdd');
}

/** A BO's GEM object (which lists it among its kgd_mems), its dma-buf, the GPUs of its attachments. */
function boRefs(w: World, gpuIds: ReadonlySet<number>, bad: BadReference): void {
  for (const [id, rec] of objectsOfKind<BoContext>(w, 'kfd.bo')) {
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
}

/** A queue's GPU. */
function queueRefs(w: World, gpuIds: ReadonlySet<number>, bad: BadReference): void {
  for (const [id, rec] of objectsOfKind<QueueContext>(w, 'kfd.queue'))
    if (!gpuIds.has(rec.context.gpu_id)) bad(id, `gpu_id ${rec.context.gpu_id}`, 'a GPU of the topology');
}

/** A GEM object's kgd_mems (BOs of this GEM) and its dma-buf (a file exporting this GEM). */
function gemRefs(w: World, bad: BadReference): void {
  for (const [id, g] of everyGem(w)) {
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
}

/** A dma-buf file's GEM object and a kfd file's task. */
function fileRefs(w: World, bad: BadReference): void {
  for (const id of Object.keys(w.files)) {
    const f = w.files[id]!;
    if (f.kind === 'dmabuf' && !w.gems[f.gem]) bad(id, f.gem, 'a live GEM object');
    if (f.kind === 'kfd' && !w.tasks[f.pid]) bad(id, `task:${f.pid}`, 'a task');
  }
}
