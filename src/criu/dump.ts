/**
 * CRIU dump of a process tree with the amdgpu plugin (spec §9.4, §9.8), driving the
 * `criu.dump` stage machine (machines/criu/dump.ts) and issuing every ioctl through the
 * handlers. CRIU dumps the tasks one after the other (`for_each_pstree_item(dump_one_task)`)
 * in one dumper process, so the plugin's bookkeeping spans the tree: one shared-BO list
 * (`record_shared_bo`), one list of deferred dma-buf fds (`dmabuf_list`, retried after every
 * render-node file of any task: `try_dump_dmabuf_list`), and one DUMP_DEVICES_LATE after the
 * last task that unpauses every /dev/kfd file and fails if a dma-buf is still deferred
 * (`post_dump_dmabuf_check`; checkpoint-restore/criu plugins/amdgpu/amdgpu_plugin_dmabuf.c).
 *
 * CRIU file ids: one per open file (a file several tasks hold is dumped once); the model
 * numbers the first task's files by their fd and the later tasks' new files after the
 * highest id so far. Which task holds which id is CRIU core's fdinfo (DumpResult.tasks).
 *
 * Modelling choices: the SDMA copy of BO contents reads the GEM content (a read changes
 * nothing); dma-buf fds are matched to their exporting render-node file through the world's
 * prime tables (what drmPrimeFDToHandle on each dumped DRM fd finds).
 *
 * The plugin's state: dump-state.ts; its dump of each kind of file: dump-kfd.ts (/dev/kfd),
 * dump-drm.ts (render nodes), dump-dmabuf.ts (dma-buf fds).
 */
import { send } from '../world/objects.js';
import type { World } from '../world/types.js';
import { liveTask } from '../world/world.js';
import { dumpDmabuf } from './dump-dmabuf.js';
import { dumpDrm } from './dump-drm.js';
import { dumpKfd } from './dump-kfd.js';
import { TreeDump } from './dump-state.js';
import type { DumpedTask, DumpResult } from './orchestrate-common.js';

/** HANDLE_DEVICE_VMA, then DUMP_EXT_FILE for each plugin fd of the task; a failure or null. */
function dumpOne(d: TreeDump, taskIndex: number, pid: number): string | null {
  const task = liveTask(d.w, pid)!;
  // HANDLE_DEVICE_VMA: the model's device VMAs are all /dev/kfd or render nodes (accepted).
  send(d.w, d.obj, { type: 'VMA_SCAN_DONE' });
  const fdinfo: DumpedTask = { pid, fds: [] };
  d.tasks.push(fdinfo);
  const fds = Object.keys(task.fds)
    .map(Number)
    .sort((a, b) => a - b);
  for (const fd of fds) {
    const file = d.w.files[task.fds[fd]!]!;
    if (file.kind !== 'kfd' && file.kind !== 'drm' && file.kind !== 'dmabuf') continue;
    const seen = d.ids.get(file.id);
    if (seen !== undefined) {
      // a file another task holds too: CRIU dumps it once, each task's fdinfo names its id
      fdinfo.fds.push({ fd, id: seen });
      continue;
    }
    const id = d.newId(taskIndex, fd);
    d.ids.set(file.id, id);
    fdinfo.fds.push({ fd, id });
    const why =
      file.kind === 'kfd'
        ? dumpKfd(d, pid, fd, id)
        : file.kind === 'drm'
          ? dumpDrm(d, pid, fd, id, file)
          : dumpDmabuf(d, { pid, fd }, id, file);
    if (why !== null) return why;
  }
  return null;
}

/**
 * DUMP_DEVICES_LATE: UNPAUSE every /dev/kfd file, then post_dump_dmabuf_check (spec §9.4 step 3).
 * record_dumped_fd list_adds each file at the head of dumped_fds, so the last one dumped is
 * unpaused first, and a failure stops the walk (the files dumped before it stay paused).
 */
function devicesLate(d: TreeDump): DumpResult {
  send(d.w, d.obj, { type: 'FILES_DONE' });
  for (const ref of [...d.kfdRefs].reverse()) {
    const u = d.x.issue('DUMP_DEVICES_LATE', d.criu, 'AMDKFD_IOC_CRIU_OP', ref, { op: 'UNPAUSE' });
    if (u.ret !== 0) {
      send(d.w, d.obj, { type: 'UNPAUSE_FAILED' });
      return d.result(`UNPAUSE returned ${u.ret}`);
    }
  }
  send(d.w, d.obj, { type: 'UNPAUSED' });
  return d.result(d.deferred.length ? 'Not all dma buffers have been dumped' : null);
}

/**
 * Dump the tasks `pids` of a process tree (the root first, as CRIU walks the pstree) as CRIU
 * with the amdgpu plugin does (spec §9.4): `criu` is the dumper (the tasks' ptrace parent).
 * An aborted dump leaves the queues paused.
 */
export function dumpTree(w: World, criu: number, pids: readonly number[]): DumpResult {
  const d = new TreeDump(w, criu, pids);
  // CRIU seizes and freezes the whole tree before it dumps any task
  const missing = pids.find((pid) => !liveTask(w, pid));
  if (missing !== undefined || pids.length === 0) {
    send(w, d.obj, { type: 'VMA_SCAN_FAILED' });
    return d.result(`no task ${missing ?? '(none given)'}`);
  }
  for (const [i, pid] of pids.entries()) {
    // the next task: its VMA scan and its files
    if (i > 0) send(w, d.obj, { type: 'TASK_DUMPED' });
    const why = dumpOne(d, i, pid);
    if (why !== null) return d.fail(why);
  }
  return devicesLate(d);
}

/** Dump one task (a tree of one). */
export function dumpTask(w: World, criu: number, pid: number): DumpResult {
  return dumpTree(w, criu, [pid]);
}
