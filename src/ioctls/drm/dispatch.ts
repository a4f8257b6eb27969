/**
 * drm_ioctl(): what every render-node ioctl passes before its function runs (drm_ioctl.c,
 * spec §8.2), and the table of which design's kernel has which ioctl (the `amdgpu-criu`
 * and `gem-change-handle` variants, docs/design-variants.md).
 */
import { ERRNO } from '../../uapi/errno.js';
import type { OpenFile, World } from '../../world/types.js';
import { fileOf } from '../../world/world.js';
import { type CallDef, type Kernel, register } from '../registry.js';
import { releaseDeadDrmFiles } from './file.js';

/** A render-node file as the handlers see it. */
export type DrmFile = Extract<OpenFile, { kind: 'drm' }>;

export interface DrmKernel extends Kernel {
  file: DrmFile;
}

/** The dispatch checks in order (docs/kfd-ioctls.md lists them; keep in step with drmIoctl). */
export const DRM_DISPATCH_CHECKS: readonly string[] = [
  'the fd is not open in the caller (sys_ioctl: fdget fails) → -EBADF',
  'the file is not a render node (/dev/kfd, a tty, a dma-buf does not know the ioctl) → -ENOTTY',
  'the running kernel has no such ioctl → -EINVAL (drm_ioctl: no function, or drm_invalid_op): DRM_IOCTL_AMDGPU_CRIU_OP except under amdgpu-criu "criu-ioctl-v3"; GEM_LIST_HANDLES and GEM_CHANGE_HANDLE under "criu-ioctl-v3" or kernel "6.17"; GEM_CHANGE_HANDLE under gem-change-handle "disabled"',
];

/** What drm_ioctl checks that gpucr does not, and why. */
export const DRM_DISPATCH_NOT_MODELLED: readonly string[] = [
  'drm_ioctl_permit (DRM_AUTH, DRM_RENDER_ALLOW): every modelled ioctl is DRM_RENDER_ALLOW',
  'argument size mismatches (a struct shorter or longer than the kernel’s is zero-extended): a log carries fields by name',
  'a file of another process (`"<pid>:<fd>"`) is usable: CRIU issues render-node ioctls on the drained fds of the process it dumps',
];

/** Whether the kernel of the world's variants has this ioctl (drm_ioctls[] / amdgpu_ioctls_kms[]). */
export function kernelHas(w: World, name: string): boolean {
  switch (name) {
    case 'DRM_IOCTL_AMDGPU_CRIU_OP':
      return w.variants['amdgpu-criu'] === 'criu-ioctl-v3';
    case 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES':
      return hasUpstreamCriu(w);
    case 'DRM_IOCTL_GEM_CHANGE_HANDLE':
      return hasUpstreamCriu(w) && w.variants['gem-change-handle'] === 'enabled';
    default:
      return true;
  }
}

/**
 * Whether the kernel has the render-node CRIU support that landed in 6.18 (LIST_HANDLES,
 * GEM_OP GET_MAPPING_INFO and its padding check, GEM_CHANGE_HANDLE, GEM_CREATE's wider flag
 * mask): not on 6.17, not in the proposal's kernel.
 */
export function hasUpstreamCriu(w: World): boolean {
  return w.variants.kernel !== '6.17' && w.variants['amdgpu-criu'] === 'upstream';
}

// drm_ioctl (drm_ioctl.c), spec §8.2
export function drmIoctl<A>(k: Kernel, name: string, a: A, run: (k: DrmKernel, a: A) => number): number {
  const { w, task, call } = k;
  if (call.fd === undefined) return -ERRNO.EBADF;
  const file = fileOf(w, task, call.fd);
  if (!file) return -ERRNO.EBADF;
  if (file.kind !== 'drm') return -ERRNO.ENOTTY;
  if (!kernelHas(w, name)) return -ERRNO.EINVAL;
  releaseDeadDrmFiles(w);
  return run({ ...k, file }, a);
}

/** Register a render-node ioctl: its handler runs behind drmIoctl's checks. */
export function registerDrm<A>(
  def: Omit<CallDef<A>, 'kind' | 'needsPid' | 'run'> & { run: (k: DrmKernel, a: A) => number },
): CallDef<A> {
  const { run, ...rest } = def;
  return register<A>({
    ...rest,
    kind: 'ioctl',
    needsPid: true,
    run: (k, a) => drmIoctl(k, def.name, a, run),
  });
}
