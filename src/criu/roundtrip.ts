/**
 * Round trip: dump a process — or the tasks of a process tree — with the CRIU orchestration
 * (src/criu/orchestrate.ts), restore the images into a fresh world with the same topology (or
 * onto other GPUs through a gpu map, spec §9.10), and compare what the application can
 * observe: KFD BOs (handle, size, flags, address, mappings, content), pdd vram_usage, queues,
 * events, SVM ranges and its render-node BOs; for several tasks each task's view and which
 * BOs the tasks share (the same BO seen through KFD handles, render-node handles or dma-buf
 * fds of several tasks). GPU ids are compared through the restore's renaming (actual ids are
 * mapped back to the user ids the application keeps using).
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import type { EventContext } from '../../machines/kfd/event.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { QueueContext } from '../../machines/kfd/queue.js';
import type { SvmRangeContext } from '../../machines/kfd/svm-range.js';
import { contentGem } from '../ioctls/amdgpu/kernel/gem.js';
import { allocIdr } from '../world/idr.js';
import { contextOf, getObject } from '../world/objects.js';
import type { StateValue } from 'xstate';
import type { World } from '../world/types.js';
import { createWorld, liveTask, pddHandles } from '../world/world.js';
import type { ImageDir } from './images/index.js';
import { dumpTree, type DumpResult, restoreImages, type RestoreResult } from './orchestrate.js';

export interface RoundtripResult {
  equivalent: boolean;
  differences: string[];
  dump: DumpResult;
  restore: RestoreResult | null;
  /** The world after the restore (null when the dump failed). */
  restored: World | null;
}

export interface RoundtripOptions {
  /** The dumper and restore master (default: the process's ptrace parent, or 1). */
  criu?: number;
  /** user gpu_id → gpu_id of the destination topology (default identity). */
  gpuMap?: ReadonlyMap<number, number>;
  /** Destination topology (default: the source's). */
  topology?: World['topology'];
  /** Transform the images between dump and restore (tests). */
  images?: (i: ImageDir) => ImageDir;
  /**
   * Dump the given world itself instead of a copy (the caller gives it away: it is left as
   * the dump leaves it). Saves a deep copy of the whole world (bench, CLI).
   */
  inPlace?: boolean;
  /** Filled with the seconds each phase took (bench). */
  timings?: RoundtripTimings;
  /** Several tasks: the order in which the restore gives them their turns (default the dump order). */
  order?: readonly number[];
}

/** Seconds per phase of a round trip: copy, dump, restore, compare. */
export type RoundtripTimings = Partial<Record<'copy' | 'dump' | 'restore' | 'compare', number>>;

function stateText(v: StateValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The view of one KFD BO: what processView shows of it. */
function boView(w: World, id: string, u: (g: number) => number): Record<string, unknown> {
  const b = contextOf<BoContext>(w, id);
  const gem = w.gems[b.gem] ? contentGem(w, b.gem) : undefined;
  return {
    va: b.va,
    size: b.size,
    alloc_flags: b.alloc_flags,
    user_addr: b.user_addr,
    mapped_on: mappedOn(b, u),
    state: stateText(w.objects[id]!.value),
    content: gem ? { ...gem.content } : null,
  };
}

/**
 * The user gpu ids a BO is mapped on, sorted (into `out`, emptied first). An insertion sort:
 * the lists are a few ids long, and Array.prototype.sort allocates a work array per call
 * (the round trip compares every BO, issue 5).
 */
function mappedOn(b: BoContext, u: (g: number) => number, out: number[] = []): number[] {
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
interface ViewParts {
  view: Record<string, unknown>;
  /** view key "gpu <user id>" → the pdd's alloc_idr. */
  bos: Map<string, Readonly<Record<number, string>>>;
  u: (g: number) => number;
  /** Two pdds share a view key (the view shows the last one): no BO-wise comparison. */
  clash: boolean;
}

/**
 * processView, with each pdd's `bos` left out (null) unless `withBos`: the view of
 * everything but the KFD BOs, and where their handles are.
 */
function viewParts(w: World, pid: number, withBos: boolean): ViewParts {
  const t = liveTask(w, pid);
  const userOf = new Map<number, number>();
  const u = (g: number) => userOf.get(g) ?? g;
  const parts: ViewParts = { view: { task: 'none' }, bos: new Map(), u, clash: false };
  if (!t) return parts;
  const pdds = t.pdds.map((id) => contextOf<PddContext>(w, id));
  for (const p of pdds) userOf.set(p.gpu_id, p.user_gpu_id);
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
  // open files by kind (fd numbers may differ: CRIU dup2s them back, the model does not)
  const kinds: Record<string, number> = {};
  for (const fid of Object.values(t.fds)) {
    const k = w.files[fid]?.kind ?? 'none';
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  view.files = kinds;
  // render-node BOs per GPU (all of the process's render-node files of that GPU)
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
      };
    }
    if (Object.keys(handles).length) view[`render ${u(f.gpu_id).toString(16)} handles`] = handles;
  }
  return parts;
}

/** What the application observes of a process, with gpu ids as the application knows them. */
export function processView(w: World, pid: number): Record<string, unknown> {
  return viewParts(w, pid, true).view;
}

/** Two states show alike (stateText). */
function sameState(a: StateValue, b: StateValue): boolean {
  return a === b || (typeof a !== 'string' && typeof b !== 'string' && stateText(a) === stateText(b));
}

/** Two page maps (GEM content) show alike: the same pages with the same values. */
function samePages(a: Record<number, number>, b: Record<number, number>): boolean {
  let n = 0;
  for (const k in a) {
    if (!Object.hasOwn(b, k) || a[k as unknown as number] !== b[k as unknown as number]) return false;
    n++;
  }
  for (const _k in b) n--;
  return n === 0;
}

/** sameBo's lists of mapped gpus, reused from BO to BO. */
const MAPPED_A: number[] = [];
const MAPPED_B: number[] = [];

/**
 * boView(wa, a, ua) and boView(wb, b, ub) show alike, compared field by field without
 * building either view. Strict: a false may still be views that show alike (the caller then
 * builds and compares the views), a true never hides a difference.
 */
function sameBo(wa: World, a: string, ua: (g: number) => number, wb: World, b: string, ub: (g: number) => number) {
  const ra = getObject<BoContext>(wa, a);
  const rb = getObject<BoContext>(wb, b);
  const x = ra.context;
  const y = rb.context;
  if (x.va !== y.va || x.size !== y.size || x.alloc_flags !== y.alloc_flags || x.user_addr !== y.user_addr)
    return false;
  if (!sameState(ra.value, rb.value)) return false;
  const ma = mappedOn(x, ua, MAPPED_A);
  const mb = mappedOn(y, ub, MAPPED_B);
  if (ma.length !== mb.length) return false;
  for (let i = 0; i < ma.length; i++) if (ma[i] !== mb[i]) return false;
  const ga = wa.gems[x.gem] ? contentGem(wa, x.gem) : undefined;
  const gb = wb.gems[y.gem] ? contentGem(wb, y.gem) : undefined;
  if (ga === undefined || gb === undefined) return ga === gb;
  return samePages(ga.content, gb.content);
}

/** Two alloc_idrs hold the same handles, and the BOs behind each handle show alike. */
function sameBos(
  a: ViewParts,
  wa: World,
  ia: Readonly<Record<number, string>>,
  b: ViewParts,
  wb: World,
  ib: Readonly<Record<number, string>>,
) {
  let n = 0;
  for (const h in ia) {
    const y = ib[h as unknown as number];
    if (y === undefined || !sameBo(wa, ia[h as unknown as number]!, a.u, wb, y, b.u)) return false;
    n++;
  }
  for (const _h in ib) n--;
  return n === 0;
}

/**
 * treeView(a, pids) and treeView(b, pids) show alike, found without building the views of
 * the KFD BOs: the views of the rest are compared as diffViews does, each pdd's BOs handle
 * by handle. Strict as sameBo: false sends the caller to diffViews of the whole views.
 */
export function sameTreeView(a: World, b: World, pids: readonly number[]): boolean {
  for (const pid of pids) {
    const pa = viewParts(a, pid, false);
    const pb = viewParts(b, pid, false);
    if (pa.clash || pb.clash || diffViews(pa.view, pb.view).length > 0) return false;
    // equal views have the same pdd keys
    for (const [key, ia] of pa.bos) if (!sameBos(pa, a, ia, pb, b, pb.bos.get(key)!)) return false;
  }
  return pids.length === 1 || diffViews(sharingView(a, pids), sharingView(b, pids)).length === 0;
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
 * Which BOs several tasks share: for each BO that more than one task reaches, the sorted list
 * of what reaches it ("<pid> kfd <gpu>:<handle>", "<pid> render <gpu>:<handle>", "<pid>
 * dmabuf"), the lists sorted. fd numbers and object ids are left out.
 */
export function sharingView(w: World, pids: readonly number[]): string[][] {
  const by = new Map<string, string[]>();
  const add = (gem: string, who: string) => {
    const id = w.gems[gem] ? contentGem(w, gem).id : gem;
    const list = by.get(id) ?? [];
    list.push(who);
    by.set(id, list);
  };
  for (const pid of pids) {
    const t = liveTask(w, pid);
    if (!t) continue;
    const u = userIds(w, pid);
    for (const p of t.pdds) {
      const user = contextOf<PddContext>(w, p).user_gpu_id;
      for (const [idr, id] of pddHandles(w, p))
        add(contextOf<BoContext>(w, id).gem, `${pid} kfd ${user.toString(16)}:${idr}`);
    }
    for (const fid of Object.values(t.fds)) {
      const f = w.files[fid];
      if (f?.kind === 'dmabuf') add(f.gem, `${pid} dmabuf`);
      if (f?.kind !== 'drm') continue;
      for (const [h, gid] of Object.entries(w.drm?.[fid]?.object_idr ?? {}))
        add(gid, `${pid} render ${u(f.gpu_id).toString(16)}:${h}`);
    }
  }
  const groups = [...by.values()].filter((l) => new Set(l.map((x) => x.split(' ')[0])).size > 1).map((l) => l.sort());
  return groups.sort((a, b) => (a.join() < b.join() ? -1 : a.join() > b.join() ? 1 : 0));
}

/** processView of one task; of several, each task's and the BOs they share. */
export function treeView(w: World, pids: readonly number[]): Record<string, unknown> {
  if (pids.length === 1) return processView(w, pids[0]!);
  const view: Record<string, unknown> = {};
  for (const pid of pids) view[`task ${pid}`] = processView(w, pid);
  view.shared = sharingView(w, pids);
  return view;
}

function show(v: unknown): string {
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

/** Round trip of task `pid`, or of the tasks `pids` of a tree (the root first). */
export function roundtrip(
  world: World,
  pids: number | readonly number[],
  opts: RoundtripOptions = {},
): RoundtripResult {
  const list = typeof pids === 'number' ? [pids] : [...pids];
  const pid = list[0]!;
  let t = performance.now();
  const lap = (phase: keyof RoundtripTimings) => {
    const now = performance.now();
    if (opts.timings) opts.timings[phase] = (opts.timings[phase] ?? 0) + (now - t) / 1000;
    t = now;
  };
  const src = opts.inPlace ? world : structuredClone(world);
  if (!opts.inPlace) lap('copy');
  const criu = opts.criu ?? src.topology.processes.find((p) => p.pid === pid)?.ptrace_parent ?? 1;
  const dump = dumpTree(src, criu, list);
  lap('dump');
  if (!dump.ok)
    return { equivalent: false, differences: [`dump failed: ${dump.failure}`], dump, restore: null, restored: null };
  const dest = createWorld(opts.topology ?? src.topology, src.variants);
  const images = opts.images ? opts.images(structuredClone(dump.images)) : dump.images;
  const restore = restoreImages(dest, images, {
    ...(list.length === 1 ? { pid } : {}),
    criu,
    memory: dump.memory,
    tasks: dump.tasks,
    ...(opts.order ? { order: opts.order } : {}),
    ...(opts.gpuMap ? { gpuMap: opts.gpuMap } : {}),
  });
  lap('restore');
  if (!restore.ok)
    return { equivalent: false, differences: [`restore failed: ${restore.failure}`], dump, restore, restored: dest };
  // The restore leaves the source world as the dump left it: both are compared now, BO by BO
  // in place; only worlds that differ are shown as views and diffed (the listing of the differences).
  const differences = sameTreeView(src, dest, list) ? [] : diffViews(treeView(src, list), treeView(dest, list));
  lap('compare');
  return { equivalent: differences.length === 0, differences, dump, restore, restored: dest };
}
