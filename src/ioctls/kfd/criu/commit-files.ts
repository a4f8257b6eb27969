/**
 * The dma-buf fds CHECKPOINT and RESTORE hand to the caller (kfd_chardev.c, spec §5.2.4 and
 * §5.4 step 4): each is reserved with get_unused_fd_flags while the BOs are walked, and
 * fd_install-ed by commit_files only once every BO has succeeded, so that a failure leaks no fd.
 */
import { fileGet, lowestFreeFd } from '../../../world/fds.js';
import type { Task, World } from '../../../world/types.js';
import type { PendingFds } from './restore-bos.js';

/**
 * get_unused_fd_flags for the dma-buf `file`: the lowest fd of `caller` neither open nor
 * reserved. Reservations only grow during the call, so the search resumes after the last one.
 */
export function reserveDmabufFd(caller: Task, pending: PendingFds, file: string): number {
  let fd = pending.next ?? lowestFreeFd(caller);
  while (pending.reserved.has(fd) || caller.fds[fd] !== undefined) fd++;
  pending.next = fd + 1;
  pending.reserved.add(fd);
  pending.files.push({ fd, file });
  return fd;
}

/** commit_files: fd_install every reserved fd. */
export function commitFiles(w: World, caller: Task, pending: PendingFds): void {
  for (const { fd, file } of pending.files) {
    caller.fds[fd] = file;
    fileGet(w, file);
  }
}
