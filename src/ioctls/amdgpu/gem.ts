/**
 * amdgpu GEM ioctls of a render node (amdgpu_gem.c; spec §8.2): creating objects
 * (GEM_CREATE, GEM_USERPTR), their mmap offset (GEM_MMAP), their properties and mappings
 * (GEM_OP) and the listing of a file's handles (GEM_LIST_HANDLES).
 *
 * Each group is a module of its own: gem-create.ts (GEM_CREATE, GEM_USERPTR), gem-op.ts
 * (GEM_MMAP, GEM_OP) and gem-list-handles.ts (GEM_LIST_HANDLES). They register on import, in
 * this order, which is the order of the generated ioctl reference.
 */
export { gemCreate, gemUserptr } from './gem-create.js';
export { gemMmap, gemOp } from './gem-op.js';
export { type GemListHandlesEntry, gemListHandles } from './gem-list-handles.js';
