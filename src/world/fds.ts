/**
 * File descriptors and open files, with the kernel's rules: a new fd is the lowest
 * free number (get_unused_fd_flags), a file lives while something references it.
 */
import type { OpenFile, Task, World } from './types.js';

/** Lowest free fd number ≥ 0 (alloc_fd). */
export function lowestFreeFd(task: Task): number {
  let fd = 0;
  while (task.fds[fd] !== undefined) fd++;
  return fd;
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
  const fd = lowestFreeFd(task);
  task.fds[fd] = fileId;
  fileGet(w, fileId);
  return fd;
}
