/**
 * File descriptors and open files, with the kernel's rules: a new fd is the lowest
 * free number (get_unused_fd_flags), a file lives while something references it.
 */
import { idrAllocIn, idrLowestFree, idrRemoveIn } from './idr.js';
import type { OpenFile, Task, World } from './types.js';

/**
 * fds are handed out as the kernel's IDRs hand out handles (alloc_fd: the lowest free number,
 * from 0), so the fd table is searched with the IDR's hints (src/world/idr.ts), kept beside
 * the world: a search from 0 walked past every open fd, which made a process keeping n dma-buf
 * fds open O(n²). Exact installs (commit_files) write the table directly, as for an IDR.
 */
const FD_END = 2 ** 31;

/** Lowest free fd number ≥ 0 (alloc_fd), without taking it. */
export function lowestFreeFd(task: Task): number {
  return idrLowestFree(task.fds, 0, FD_END);
}

/** __put_unused_fd: the fd's slot is free again (close). */
export function freeFd(task: Task, fd: number): void {
  idrRemoveIn(task.fds, fd);
}

/** A new open file (alloc_file): `file` is a fresh object literal, which becomes its record. */
export function newFile<K extends OpenFile['kind']>(
  w: World,
  file: Omit<Extract<OpenFile, { kind: K }>, 'id' | 'refs'>,
): string {
  const id = `file#${w.next.file}`;
  w.next.file += 1;
  // The caller's object literal becomes the record (every caller passes a fresh one): no copy,
  // which a round trip pays for every dma-buf of every BO, twice (issue 5).
  const f = file as Omit<OpenFile, 'id' | 'refs'> & { id?: string; refs?: number };
  f.id = id;
  f.refs = 0;
  w.files[id] = f as OpenFile;
  return id;
}

export function fileGet(w: World, id: string): void {
  const f = w.files[id];
  if (f) f.refs += 1;
}

/** fput: drop a reference; the last one releases the file (and what it holds). */
export function filePut(w: World, id: string, release: (f: OpenFile) => void): void {
  const f = w.files[id];
  if (!f) return;
  f.refs -= 1;
  if (f.refs <= 0) {
    release(f);
    delete w.files[id];
  }
}

/** fd_install of a file into the lowest free slot; returns the fd. */
export function installFd(w: World, task: Task, fileId: string): number {
  const fd = idrAllocIn(task.fds, fileId, 0, FD_END)!;
  fileGet(w, fileId);
  return fd;
}
