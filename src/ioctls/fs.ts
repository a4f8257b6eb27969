/**
 * The non-ioctl calls a process makes: open, close, exit (design "Event log format").
 */
import { type BoContext, mappedVms } from '../../machines/kfd/bo.js';
import { ERRNO } from '../uapi/errno.js';
import { filePut, freeFd, installFd, newFile } from '../world/fds.js';
import { allocIdr, idrDestroy } from '../world/idr.js';
import { dropObject, send } from '../world/objects.js';
import type { OpenFile, Task, World } from '../world/types.js';
import { bo, gpuByMinor, pdd } from '../world/world.js';
import { freeMemoryOfGpu, releaseDmabuf, unmapBoFromVm } from './kfd/kernel/gpuvm.js';
import { releaseDrmFile } from './drm/file.js';
import { createKfdProcess } from './kfd/kernel/process.js';
import { register } from './registry.js';
import { str, u32 } from './schema.js';

/** What dropping the last reference of a file releases. */
export function releaseFile(w: World, f: OpenFile): void {
  if (f.kind === 'dmabuf') releaseDmabuf(w, f);
  if (f.kind === 'drm') {
    // drm_release → drm_gem_release: every handle of the file goes, with its bo_vas.
    releaseDrmFile(w, f.id);
    f.compute_vm_pid = null;
  }
}

// do_sys_open → kfd_open / drm_open (kfd_chardev.c, drm_file.c)
export const open = register<{ path: string; flags: number; fd: number }>({
  name: 'open',
  kind: 'syscall',
  needsPid: true,
  models: 'open(2) of /dev/kfd (kfd_open → kfd_create_process) or /dev/dri/renderD<minor> (drm_open)',
  checks: ['a path other than /dev/kfd or an existing /dev/dri/renderD<minor> → -ENOENT'],
  args: { path: str, flags: u32 },
  out: ['fd'],
  run({ w, task }, a) {
    let file: string;
    if (a.path === '/dev/kfd') {
      // A kfd_process is per mm: every open of /dev/kfd returns the same one.
      if (!task.kfd_process) createKfdProcess(w, task);
      file = newFile<'kfd'>(w, { kind: 'kfd', pid: task.pid });
    } else {
      const m = /^\/dev\/dri\/renderD([0-9]+)$/.exec(a.path);
      const gpu = m ? gpuByMinor(w, Number(m[1])) : undefined;
      if (!gpu) return -ERRNO.ENOENT;
      file = newFile<'drm'>(w, {
        kind: 'drm',
        gpu_id: gpu.gpu_id,
        render_minor: gpu.render_minor,
        compute_vm_pid: null,
      });
    }
    a.fd = installFd(w, task, file);
    return 0;
  },
});

function closeFd(w: World, task: Task, fd: number): void {
  const id = task.fds[fd]!;
  freeFd(task, fd);
  filePut(w, id, (f) => releaseFile(w, f));
}

// close(2) → filp_close
export const close = register<{ fd: number }>({
  name: 'close',
  kind: 'syscall',
  needsPid: true,
  models: 'close(2)',
  checks: ['fd not open → -EBADF'],
  args: { fd: u32 },
  out: [],
  run({ w, task }, a) {
    if (task.fds[a.fd] === undefined) return -ERRNO.EBADF;
    closeFd(w, task, a.fd);
    return 0;
  },
});

/** kfd_process_notifier_release → kfd_process_wq_release: tear the kfd_process down. */
function kfdProcessTeardown(w: World, task: Task): void {
  for (const q of Object.values(task.queues)) {
    send(w, q, { type: 'DESTROY' });
    dropObject(w, q);
  }
  for (const e of Object.values(task.events)) {
    send(w, e, { type: 'DESTROY' });
    dropObject(w, e);
  }
  for (const r of task.svm_ranges) {
    send(w, r, { type: 'DESTROY' });
    dropObject(w, r);
  }
  task.queues = {};
  task.events = {};
  task.svm_ranges = [];
  // kfd_process_device_free_bos: unmap from every VM, then free.
  for (const pddId of task.pdds) {
    for (const boId of [...Object.values(allocIdr(w, pddId)), ...pdd(w, pddId).internal_bos]) {
      const b: BoContext = bo(w, boId);
      for (const vm of mappedVms(b)) unmapBoFromVm(w, boId, vm);
      freeMemoryOfGpu(w, boId);
      dropObject(w, boId);
    }
  }
  for (const pddId of task.pdds) {
    const drm = pdd(w, pddId).drm_file;
    send(w, pddId, { type: 'DESTROY' });
    idrDestroy(w, pddId);
    dropObject(w, pddId);
    if (drm) filePut(w, drm, (f) => releaseFile(w, f));
  }
  send(w, task.kfd_process!, { type: 'EXIT' });
  dropObject(w, task.kfd_process!);
  task.kfd_process = null;
  task.pdds = [];
}

// do_exit: exit_mm (kfd_process_notifier_release), exit_files
export const exit = register<Record<string, never>>({
  name: 'exit',
  kind: 'syscall',
  needsPid: true,
  models: 'exit(2): the mm goes (kfd process teardown), then every fd is closed',
  checks: [],
  args: {},
  out: [],
  run({ w, task }) {
    if (task.kfd_process) kfdProcessTeardown(w, task);
    for (const fd of Object.keys(task.fds).map(Number)) closeFd(w, task, fd);
    task.alive = false;
    return 0;
  },
});
