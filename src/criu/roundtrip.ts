/**
 * Round trip: dump a process — or the tasks of a process tree — with the CRIU orchestration
 * (src/criu/orchestrate.ts), restore the images into a fresh world with the same topology (or
 * another: the restore maps the GPUs onto it, spec §9.10), and compare what the application can
 * observe: KFD BOs (handle, size, flags, address, mappings, content), pdd vram_usage, queues,
 * events, SVM ranges and its render-node BOs; for several tasks each task's view and which
 * BOs the tasks share (the same BO seen through KFD handles, render-node handles or dma-buf
 * fds of several tasks). GPU ids are compared through the restore's renaming (actual ids are
 * mapped back to the user ids the application keeps using). The views are process-view.ts's,
 * the comparison in place view-compare.ts's.
 */
import type { World } from '../world/types.js';
import { createWorld } from '../world/world.js';
import type { ImageDir } from './images/index.js';
import { dumpTree, type DumpResult, restoreImages, type RestoreResult } from './orchestrate.js';
import type { RemapOptions } from './remap.js';
import { diffViews, treeView } from './process-view.js';
import { sameTreeView } from './view-compare.js';

export { diffViews, processView, sharingView, treeView } from './process-view.js';
export { sameTreeView } from './view-compare.js';

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
  /** The KFD_*_CHECK switches of the restore's GPU remapping (spec §9.10; default all enabled). */
  remap?: RemapOptions;
  /** Destination topology (default: the source's); the restore maps the GPUs onto it (spec §9.10). */
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
    ...(opts.remap ? { remap: opts.remap } : {}),
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
