/**
 * Render-node conformance harness: the KFD Harness (helpers.ts) plus an application with
 * /dev/kfd (fd 3), GPU A's render node (fd 4, acquired as GPU A's compute VM unless asked
 * otherwise), GPU B's (fd 5) and a second file of GPU A (fd 6), and one-line render-node calls.
 */
import { GPU_A, GPU_B, Harness, type HarnessOptions, type Result } from './helpers.js';

export { APP, CRIU, E, GPU_A, GPU_B, RESTORED } from './helpers.js';

export const KFD = 3;
/** GPU A's render node, the compute VM of GPU A when acquired. */
export const RA = 4;
/** GPU B's render node. */
export const RB = 5;
/** A second file of GPU A's render node (another VM, another handle namespace). */
export const RA2 = 6;
export const PAGE = 4096;

export class Drm extends Harness {
  constructor(opts: HarnessOptions & { acquire?: boolean } = {}) {
    super(opts);
    this.must(this.open(100, '/dev/kfd'));
    this.must(this.open(100, '/dev/dri/renderD128'));
    this.must(this.open(100, '/dev/dri/renderD129'));
    this.must(this.open(100, '/dev/dri/renderD128'));
    if (opts.acquire !== false) this.must(this.ioctl(100, 'ACQUIRE_VM', { drm_fd: RA, gpu_id: GPU_A }, KFD));
  }

  /** A DRM ioctl (name without DRM_IOCTL_) on a render-node fd of the application (or any fd ref). */
  drm(name: string, raw: object = {}, fd: number | string = RA, pid = 100): Result {
    return this.call(pid, `DRM_IOCTL_${name}`, fd, raw);
  }

  /** GEM_CREATE that must succeed; returns the handle. */
  create(raw: object = {}, fd: number = RA): number {
    return this.must(this.drm('AMDGPU_GEM_CREATE', { bo_size: PAGE, domains: ['GTT'], ...raw }, fd)).out
      .handle as number;
  }

  /** GEM_VA MAP with READABLE; returns the result (Harness.map is the KFD MAP_MEMORY_TO_GPU). */
  va(handle: number, va: number | bigint | string, size: number | bigint = PAGE, extra: object = {}, fd = RA): Result {
    return this.drm(
      'AMDGPU_GEM_VA',
      { handle, operation: 'MAP', flags: ['PAGE_READABLE'], va_address: va, offset_in_bo: 0, map_size: size, ...extra },
      fd,
    );
  }

  /** GEM_OP GET_MAPPING_INFO with room for `n` entries. */
  mappings(handle: number, n = 16, fd = RA): Result {
    return this.drm('AMDGPU_GEM_OP', { handle, op: 'GET_MAPPING_INFO', num_entries: n }, fd);
  }

  /** PRIME_HANDLE_TO_FD that must succeed; returns the fd. */
  exportFd(handle: number, fd = RA): number {
    return this.must(this.drm('PRIME_HANDLE_TO_FD', { handle, flags: 0 }, fd)).out.fd as number;
  }

  /** The GEM object behind a handle of an fd of the application (from the world). */
  gem(handle: number, fd = RA): string | undefined {
    const file = this.w.tasks[100]?.fds[fd];
    return file === undefined ? undefined : this.w.drm?.[file]?.object_idr[handle];
  }
}

export { GPU_B as GPU_OTHER };
