/**
 * What the application observes of a process (processView) and of a process tree (treeView:
 * each task's view and which BOs the tasks share), with gpu ids as the application knows them
 * (actual ids mapped back through each pdd's user_gpu_id), and the difference of two views
 * (diffViews): what the round trip (roundtrip.ts) compares and lists.
 */
import type { BoVaContext, BoVaMapping } from '../../machines/amdgpu/bo-va.js';
import type { BoContext } from '../../machines/kfd/bo.js';
import type { EventContext } from '../../machines/kfd/event.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { QueueContext } from '../../machines/kfd/queue.js';
import type { SvmRangeContext } from '../../machines/kfd/svm-range.js';
import { contentGem, findContentGem } from '../ioctls/amdgpu/kernel/gem.js';
import { boVaFind } from '../ioctls/amdgpu/kernel/vm.js';
import { allocIdr } from '../world/idr.js';
import { contextOf } from '../world/objects.js';
import type { StateValue } from 'xstate';
import type { Task, World } from '../world/types.js';
import { liveTask } from '../world/world.js';

export function stateText(v: StateValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The view of one KFD BO: what processView shows of it. */
function boView(w: World, id: string, u: (g: number) => number): Record<string, unknown> {
  const b = contextOf<BoContext>(w, id);
  const gem = findContentGem(w, b.gem);
  return {
    va: b.va,
    size: b.size,
    alloc_flags: b.alloc_flags,
    user_addr: b.user_addr,
    mapped_on: mappedOn(b, u),
    ...halfMappedOn(b, u),
    state: stateText(w.objects[id]!.value),
    content: gem ? { ...gem.content } : null,
  };
}

const NO_HALF = Object.freeze({});

/**
 * The user gpu ids where an AQL BO is half mapped (its entry at `va` not mapped), as a key of
 * the view only when there is one: the view of every other BO stays as it was, and a round trip
 * that maps the BO whole (KFD RESTORE maps every GPU of `mapped_gpuids`) shows the difference.
 */
function halfMappedOn(b: BoContext, u: (g: number) => number): { half_mapped_on?: number[] } {
  let on: number[] | undefined;
  // No array for the BOs without a half (all but a few): the round trip views every BO.
  for (const a of b.attachments) if (a.half_mapped) (on ??= []).push(u(a.vm));
  return on === undefined ? NO_HALF : { half_mapped_on: on.sort((x, y) => x - y) };
}

/**
 * The user gpu ids a BO is mapped on, sorted (into `out`, emptied first). An insertion sort:
 * the lists are a few ids long, and Array.prototype.sort allocates a work array per call
 * (the round trip compares every BO, issue 5).
 */
export function mappedOn(b: BoContext, u: (g: number) => number, out: number[] = []): number[] {
  out.length = 0;
  for (const a of b.attachments) {
    if (!a.is_mapped) continue;
    const g = u(a.vm);
    let i = out.length;
    out.push(g);
    for (; i > 0 && out[i - 1]! > g; i--) out[i] = out[i - 1]!;
    out[i] = g;
  }
  return out;
}

/** A process's view and, per pdd key of the view, its alloc_idr (the BOs it shows). */
export interface ViewParts {
  view: Record<string, unknown>;
  /** view key "gpu <user id>" → the pdd's alloc_idr. */
  bos: Map<string, Readonly<Record<number, string>>>;
  u: (g: number) => number;
  /** Two pdds share a view key (the view shows the last one): no BO-wise comparison. */
  clash: boolean;
}

/** The view of a task's queues, events and SVM ranges, into `view`. */
function objectViews(w: World, t: Task, u: (g: number) => number, view: Record<string, unknown>): void {
  for (const [qid, id] of Object.entries(t.queues)) {
    const q = contextOf<QueueContext>(w, id);
    const {
      pid: _p,
      gpu_id,
      mqd: _m,
      ctl_stack: _c,
      doorbell_off: _d,
      ...rest
    } = q as QueueContext & Record<string, unknown>;
    view[`queue ${qid}`] = { ...rest, gpu_id: u(gpu_id), state: stateText(w.objects[id]!.value) };
  }
  for (const [eid, id] of Object.entries(t.events)) {
    const e = contextOf<EventContext>(w, id);
    view[`event ${eid}`] = { type: e.type, auto_reset: e.auto_reset, state: stateText(w.objects[id]!.value) };
  }
  for (const id of t.svm_ranges) {
    const s = contextOf<SvmRangeContext>(w, id);
    const { pid: _p, ...rest } = s as SvmRangeContext & Record<string, unknown>;
    view[`svm ${s.start.toString(16)}`] = { ...rest, state: stateText(w.objects[id]!.value) };
  }
}

/**
 * A task's open files, by kind and render-node files per GPU (`drm <user gpu_id>`: the plugin
 * restores every render-node file of a GPU into one fd, and opens one in the restored task for
 * every GPU of its KFD process, spec §9.5 step 3.4; a count by kind alone let one hide the other
 * on two GPUs), fd numbers aside (CRIU dup2s them back, the model does not); and its
 * render-node BOs per GPU (all of its render-node files of that GPU), into `view`.
 */
function fileViews(w: World, t: Task, u: (g: number) => number, view: Record<string, unknown>): void {
  const kinds: Record<string, number> = {};
  for (const fid of Object.values(t.fds)) {
    const f = w.files[fid];
    const k = f?.kind === 'drm' ? `drm ${u(f.gpu_id).toString(16)}` : (f?.kind ?? 'none');
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  view.files = kinds;
  // one key per render file, numbered per GPU in fd order (`handles`, `handles #2`, …), so that
  // a second file of a GPU is compared too, not written over the first
  const perGpu = new Map<number, number>();
  for (const fid of Object.values(t.fds)) {
    const f = w.files[fid];
    if (f?.kind !== 'drm') continue;
    const priv = w.drm?.[fid];
    const handles: Record<string, unknown> = {};
    for (const [h, gid] of Object.entries(priv?.object_idr ?? {})) {
      const g = w.gems[gid];
      if (!g) continue;
      // an import object (another device's dma-buf) shows its exporter's pages
      handles[h] = {
        size: g.size,
        preferred_domains: g.preferred_domains,
        flags: g.flags,
        content: { ...contentGem(w, gid).content },
        mappings: gemVaMappings(w, fid, gid),
      };
    }
    if (!Object.keys(handles).length) continue;
    const g = u(f.gpu_id);
    const n = (perGpu.get(g) ?? 0) + 1;
    perGpu.set(g, n);
    view[`render ${g.toString(16)} handles${n > 1 ? ` #${n}` : ''}`] = handles;
  }
}

/**
 * The GEM_VA mappings of a render-node object in the file's VM, by address: where, which part
 * of the object, the flags, and whether the page tables have it (`pending`: in the bo_va's
 * invalids, so the GPU faults there). KFD mappings in the same bo_va are the KFD view's.
 */
function gemVaMappings(w: World, fileId: string, gem: string): Record<string, unknown>[] {
  const bv = boVaFind(w, fileId, gem);
  if (bv === undefined) return [];
  const c = contextOf<BoVaContext>(w, bv);
  const view = (m: BoVaMapping, pending: boolean) => ({
    start: m.start,
    last: m.last,
    offset: m.offset,
    flags: m.flags,
    pending,
  });
  return [
    ...c.valids.filter((m) => m.kfd === null).map((m) => view(m, false)),
    ...c.invalids.filter((m) => m.kfd === null).map((m) => view(m, true)),
  ].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The user gpu id of an actual one, per the task's pdds. */
function userIds(w: World, pid: number): (g: number) => number {
  const userOf = new Map<number, number>();
  for (const id of liveTask(w, pid)?.pdds ?? []) {
    const p = contextOf<PddContext>(w, id);
    userOf.set(p.gpu_id, p.user_gpu_id);
  }
  return (g) => userOf.get(g) ?? g;
}

/**
 * processView, with each pdd's `bos` left out (null) unless `withBos`: the view of
 * everything but the KFD BOs, and where their handles are.
 */
export function viewParts(w: World, pid: number, withBos: boolean): ViewParts {
  const t = liveTask(w, pid);
  const u = userIds(w, pid);
  const parts: ViewParts = { view: { task: 'none' }, bos: new Map(), u, clash: false };
  if (!t) return parts;
  const pdds = t.pdds.map((id) => contextOf<PddContext>(w, id));
  const view: Record<string, unknown> = { kfd: t.kfd_process ? stateText(w.objects[t.kfd_process]!.value) : 'none' };
  parts.view = view;
  for (const [i, p] of pdds.entries()) {
    const idr = allocIdr(w, t.pdds[i]!);
    const key = `gpu ${p.user_gpu_id.toString(16)}`;
    let bos: Record<string, unknown> | null = null;
    if (withBos) {
      bos = {};
      for (const h in idr) bos[h] = boView(w, idr[h as unknown as number]!, u);
    }
    if (parts.bos.has(key)) parts.clash = true;
    parts.bos.set(key, idr);
    view[key] = { vram_usage: p.vram_usage, evicted: p.evicted, bos };
  }
  objectViews(w, t, u, view);
  fileViews(w, t, u, view);
  return parts;
}

/** What the application observes of a process, with gpu ids as the application knows them. */
export function processView(w: World, pid: number): Record<string, unknown> {
  return viewParts(w, pid, true).view;
}

/**
 * Which BOs are reached more than once: for each BO that more than one KFD handle, render-node
 * handle or dma-buf fd reaches — of one task or of several —, the sorted list of what reaches it
 * ("<pid> kfd <gpu>:<handle>", "<pid> render <gpu>:<handle>", "<pid> dmabuf"), the lists sorted.
 * fd numbers and object ids are left out. Within one task too: a dma-buf fd restored as another
 * BO, or a render-node handle restored as an import of another BO, shows here (session 11;
 * before, only BOs several tasks reach were listed).
 */
export function sharingView(w: World, pids: readonly number[]): string[][] {
  // One pass; a reacher is named only when a second one reaches the same BO, so a round trip
  // of 100,000 BOs reached once each builds no name.
  const first = new Map<string, () => string>();
  const by = new Map<string, string[]>();
  reachers(w, pids, (id, who) => {
    const one = first.get(id);
    if (one === undefined) {
      first.set(id, who);
      return;
    }
    let list = by.get(id);
    if (!list) by.set(id, (list = [one()]));
    list.push(who());
  });
  const groups = [...by.values()].map((l) => l.sort());
  return groups.sort((a, b) => (a.join() < b.join() ? -1 : a.join() > b.join() ? 1 : 0));
}

/**
 * Everything of the tasks that reaches a BO — KFD handles, render-node handles, dma-buf fds —,
 * with the BO's identity: the GEM object whose pages it is (an import's are its exporter's).
 */
function reachers(w: World, pids: readonly number[], add: (id: string, who: () => string) => void): void {
  const idOf = (gem: string) => findContentGem(w, gem)?.id ?? gem;
  for (const pid of pids) {
    const t = liveTask(w, pid);
    if (!t) continue;
    const u = userIds(w, pid);
    for (const p of t.pdds) {
      const user = contextOf<PddContext>(w, p).user_gpu_id;
      const idr = allocIdr(w, p);
      for (const h in idr) {
        const bo = contextOf<BoContext>(w, idr[h]!);
        // a KFD allocation's own GEM object holds its pages: no import to follow
        add(bo.is_imported ? idOf(bo.gem) : bo.gem, () => `${pid} kfd ${user.toString(16)}:${h}`);
      }
    }
    for (const fid of Object.values(t.fds)) {
      const f = w.files[fid];
      if (f?.kind === 'dmabuf') add(idOf(f.gem), () => `${pid} dmabuf`);
      if (f?.kind !== 'drm') continue;
      for (const [h, gid] of Object.entries(w.drm?.[fid]?.object_idr ?? {}))
        add(idOf(gid), () => `${pid} render ${u(f.gpu_id).toString(16)}:${h}`);
    }
  }
}

/** processView of one task and the BOs it reaches more than once; of several, each task's and the BOs reached more than once. */
export function treeView(w: World, pids: readonly number[]): Record<string, unknown> {
  if (pids.length === 1) {
    const shared = sharingView(w, pids);
    return shared.length ? { ...processView(w, pids[0]!), shared } : processView(w, pids[0]!);
  }
  const view: Record<string, unknown> = {};
  for (const pid of pids) view[`task ${pid}`] = processView(w, pid);
  view.shared = sharingView(w, pids);
  return view;
}

function show(v: unknown): string {
  if (v === undefined) return 'absent';
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
}

/** Paths where two views differ, "path: before → after". */
export function diffViews(a: unknown, b: unknown, path = ''): string[] {
  // Equal views serialise alike (one native pass); a mismatch, or keys in another order,
  // falls through to the walk that names each difference.
  if (path === '' && show(a) === show(b)) return [];
  if (
    typeof a === 'object' &&
    a !== null &&
    typeof b === 'object' &&
    b !== null &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const out: string[] = [];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys)
      out.push(
        ...diffViews((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k),
      );
    return out;
  }
  return show(a) === show(b) ? [] : [`${path}: ${show(a)} → ${show(b)}`];
}
