/**
 * pidfd_getfd(2): duplicate another process's fd into the caller (kernel/pid.c, Linux 5.6+).
 * The way one process of a model world gets an fd of a file another one opened (a dma-buf
 * exported by its peer, as over SCM_RIGHTS): the new fd refers to the same open file.
 *
 * The model has no pidfd files: the call names the target process by its pid, standing for
 * `pidfd_open(pid, 0)` followed by `pidfd_getfd(pidfd, targetfd, flags)`. ptrace_may_access
 * (PTRACE_MODE_ATTACH_REALCREDS) is modelled with the world's ptrace relation, as under Yama
 * ptrace_scope 1 (a tracer attaches to a process only when it is its ancestor or declared
 * tracer, or holds CAP_SYS_PTRACE): the caller itself, the target's `ptrace_parent`, or a
 * caller with CAP_SYS_PTRACE may take the fd. docs/checkpoint-restore.md "Processes sharing dma-bufs".
 */
import { ERRNO } from '../uapi/errno.js';
import { installFd } from '../world/fds.js';
import type { Task } from '../world/types.js';
import { liveTask } from '../world/world.js';
import { register } from './registry.js';
import { u32 } from './schema.js';

/** ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS) as the model reads it (see the header). */
function ptraceMayAttach(caller: Task, target: Task): boolean {
  return caller.pid === target.pid || target.ptrace_parent === caller.pid || caller.caps.includes('CAP_SYS_PTRACE');
}

// SYSCALL_DEFINE3(pidfd_getfd) → pidfd_getfd → __pidfd_fget → receive_fd (kernel/pid.c)
export const pidfdGetfd = register<{ pid: number; targetfd: number; flags: number; fd: number }>({
  name: 'pidfd_getfd',
  kind: 'syscall',
  needsPid: true,
  models:
    'pidfd_getfd(2) (kernel/pid.c): a new fd, the lowest free one, for the open file `targetfd` of process `pid` (the pidfd of pidfd_open(pid, 0))',
  checks: [
    'flags ≠ 0 → -EINVAL',
    'no live process `pid` (get_pid_task fails) → -ESRCH',
    'ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS) refused: the caller is neither the process, nor its ptrace parent, nor holds CAP_SYS_PTRACE → -EPERM',
    'targetfd not open in that process (fget_task fails) → -EBADF',
  ],
  args: { pid: u32, targetfd: u32, flags: u32 },
  out: ['fd'],
  run({ w, task }, a) {
    if (a.flags !== 0) return -ERRNO.EINVAL;
    const target = liveTask(w, a.pid);
    if (!target) return -ERRNO.ESRCH;
    if (!ptraceMayAttach(task, target)) return -ERRNO.EPERM;
    const file = target.fds[a.targetfd];
    if (file === undefined || !w.files[file]) return -ERRNO.EBADF;
    // receive_fd(file, O_CLOEXEC): fd_install of the same struct file, one more reference
    a.fd = installFd(w, task, file);
    return 0;
  },
});
