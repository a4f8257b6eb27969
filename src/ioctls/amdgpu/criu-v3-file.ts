/**
 * What the 2025 amdgpu CRIU-ioctl proposal (spec §8.1; criu-v3.ts) walks of a render-node
 * file: its handles in IDR order, each object's mappings in the file's VM in the order the
 * posted code visits them, and the drm_gem_prime_handle_to_fd it calls on a handle.
 */
import type { BoVaMapping } from '../../../machines/amdgpu/bo-va.js';
import { installFd } from '../../world/fds.js';
import type { Task, World } from '../../world/types.js';
import { primeAdd, primeByHandle } from '../drm/file.js';
import { objectDmabuf } from '../drm/prime.js';
import { boVa, boVaFind } from './kernel/vm.js';

/** Handles of a file in IDR order (idr_for_each_entry). */
export function handlesOf(w: World, fileId: string): number[] {
  return Object.keys(w.drm?.[fileId]?.object_idr ?? {})
    .map(Number)
    .sort((a, b) => a - b);
}

/** The mappings of an object in the file's VM in the order the proposal walks them: invalids, then valids. */
export function proposalMappings(w: World, fileId: string, gem: string): { m: BoVaMapping; line: number }[] {
  const bv = boVaFind(w, fileId, gem);
  if (!bv) return [];
  const c = boVa(w, bv);
  return [...c.invalids.map((m) => ({ m, line: 205 })), ...c.valids.map((m) => ({ m, line: 215 }))];
}

/**
 * drm_gem_prime_handle_to_fd of `handle` (object `gem`) in `task`: the handle's dma-buf, exported
 * with `flags` if it has none yet, at the task's lowest free fd. Throws KernelReturn on failure.
 */
export function primeHandleToFd(
  w: World,
  task: Task,
  fileId: string,
  handle: number,
  gem: string,
  flags: number,
): number {
  let dmabuf = primeByHandle(w, fileId, handle);
  if (dmabuf === undefined) {
    dmabuf = objectDmabuf(w, gem, flags);
    primeAdd(w, fileId, dmabuf, handle);
  }
  return installFd(w, task, dmabuf);
}
