/**
 * Composed-coverage configurations of the amdgpu render-node machines
 * (src/explore/coverage-suite.ts): an application (pid 100) with /dev/kfd (fd 3), GPU
 * A's render node twice (F1 = fd 4, its compute VM; F2 = fd 5) and GPU B's (FB = fd 6),
 * and one GTT object created in F1 (handle 1), whose first dma-buf fd is 7. The calls
 * are the ones the MBT adapters use (test/mbt/adapters/amdgpu-*.ts).
 */
import { encodeCriuV3Priv } from '../ioctls/amdgpu/criu-v3.js';
import type { Call, Variants } from '../world/types.js';
import type { SuiteConfig } from './coverage-suite.js';
import { APP, CRIU, GPU_A, twoGpuConfig } from './coverage-suite-world.js';
import { call as familyCall, type Raw } from './families/common.js';

const KFD = 3;
const F1 = 4;
const F2 = 5;
const FB = 6;
/** The first dma-buf fd of the application (the lowest free one after the four opens). */
const DMABUF = 7;
const PAGE = 4096n;
const P = 0x200000n;
const Q = 0x7f0000000n;
/** The first KFD import's handle (GPU A, idr 0). */
const KFD_HANDLE = BigInt(GPU_A) << 32n;

/** A call of the application (families/common.ts `call`). */
function call(name: string, args: Raw, fd?: number): Call {
  return familyCall(name, args, APP, fd);
}

type Spec = [string, string, Raw, number?];

function amdgpuConfig(
  name: string,
  extraSetup: Spec[],
  specs: Spec[],
  maxDepth: number,
  variants: Partial<Variants> = {},
  expect?: string[],
): SuiteConfig {
  return twoGpuConfig(name, maxDepth, expect, () => {
    const actions = specs.map(([n, c, a, fd]) => ({ name: n, calls: [call(c, a, fd)] }));
    return {
      processes: [{ pid: APP, ptrace_parent: CRIU }],
      variants,
      setup: [
        call('open', { path: '/dev/kfd' }),
        call('open', { path: '/dev/dri/renderD128' }),
        call('open', { path: '/dev/dri/renderD128' }),
        call('open', { path: '/dev/dri/renderD129' }),
        call('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: F1, gpu_id: GPU_A }, KFD),
        ...extraSetup.map(([, c, a, fd]) => call(c, a, fd)),
      ],
      actions: () => actions,
    };
  });
}

const CREATE: Spec = ['create', 'DRM_IOCTL_AMDGPU_GEM_CREATE', { bo_size: 4n * PAGE, domains: ['GTT'] }, F1];
const EXPORT: Spec = ['export F1:1', 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: 1, flags: 0 }, F1];
const KFD_IMPORT: Spec = [
  'KFD import',
  'AMDKFD_IOC_IMPORT_DMABUF',
  { va_addr: Q * PAGE, gpu_id: GPU_A, dmabuf_fd: DMABUF },
  KFD,
];
const KFD_FREE: Spec = ['KFD free', 'AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: KFD_HANDLE }, KFD];

/** amdgpu.gem_bo: handles in two files and another GPU's, export and import, KFD references, orphaned objects. */
const GEM = amdgpuConfig(
  'amdgpu GEM object handles and dma-buf',
  [CREATE],
  [
    ['mmap', 'DRM_IOCTL_AMDGPU_GEM_MMAP', { handle: 1 }, F1],
    ['set placement', 'DRM_IOCTL_AMDGPU_GEM_OP', { handle: 1, op: 'SET_PLACEMENT', value: 6 }, F1],
    EXPORT,
    ['import into F1', 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: DMABUF }, F1],
    ['import into F2', 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: DMABUF }, F2],
    ['import into FB', 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: DMABUF }, FB],
    ['close dma-buf fd', 'close', { fd: DMABUF }],
    ['close F1:1', 'DRM_IOCTL_GEM_CLOSE', { handle: 1 }, F1],
    ['close F2:1', 'DRM_IOCTL_GEM_CLOSE', { handle: 1 }, F2],
    ['change F1 1 → 2', 'DRM_IOCTL_GEM_CHANGE_HANDLE', { handle: 1, new_handle: 2 }, F1],
    KFD_IMPORT,
    KFD_FREE,
  ],
  4,
);

/** The proposal's CRIU_OP RESTORE (criu-ioctl-v3) leaks the creation reference (amdgpu_criu.c). */
const GEM_V3 = amdgpuConfig(
  'amdgpu GEM object restored by criu-ioctl-v3',
  [],
  [
    [
      'restore',
      'DRM_IOCTL_AMDGPU_CRIU_OP',
      {
        op: 'RESTORE',
        bos: [{ size: PAGE, preferred_domains: ['GTT'] }],
        priv_data: Buffer.from(encodeCriuV3Priv([{ idr_handle: 1 }], [])).toString('hex'),
        num_objs: 0,
      },
      F2,
    ],
    ['mmap F2:1', 'DRM_IOCTL_AMDGPU_GEM_MMAP', { handle: 1 }, F2],
    ['close F2:1', 'DRM_IOCTL_GEM_CLOSE', { handle: 1 }, F2],
    ['close dma-buf fd', 'close', { fd: DMABUF }],
  ],
  4,
  { 'amdgpu-criu': 'criu-ioctl-v3' },
  // The known bug: the leaked reference outlives every handle (docs/known-bugs.md).
  ['amdgpu.no-leaked-gem', 'kfd.no-leaks'],
);

const va = (operation: string, start: bigint, last: bigint, flags: string[], offset = 0n): Raw => ({
  handle: 1,
  operation,
  flags,
  va_address: start * PAGE,
  offset_in_bo: offset,
  map_size: (last - start + 1n) * PAGE,
});

/** amdgpu.bo_va of the object in F1's VM: GEM_VA MAP / UNMAP / CLEAR / REPLACE, with and without DELAY_UPDATE, and KFD's mapping of its import. */
const BO_VA = amdgpuConfig(
  'amdgpu bo_va mappings',
  [CREATE, EXPORT],
  [
    ['map A', 'DRM_IOCTL_AMDGPU_GEM_VA', va('MAP', P, P + 1n, ['PAGE_READABLE']), F1],
    ['map A, delayed', 'DRM_IOCTL_AMDGPU_GEM_VA', va('MAP', P, P + 1n, ['PAGE_READABLE', 'DELAY_UPDATE']), F1],
    [
      'map B, delayed',
      'DRM_IOCTL_AMDGPU_GEM_VA',
      va('MAP', P + 16n, P + 16n, ['PAGE_READABLE', 'PAGE_WRITEABLE', 'DELAY_UPDATE'], 0x2000n),
      F1,
    ],
    ['unmap P', 'DRM_IOCTL_AMDGPU_GEM_VA', va('UNMAP', P, P, []), F1],
    ['unmap P+16', 'DRM_IOCTL_AMDGPU_GEM_VA', va('UNMAP', P + 16n, P + 16n, []), F1],
    ['clear A tail', 'DRM_IOCTL_AMDGPU_GEM_VA', va('CLEAR', P + 1n, P + 1n, []), F1],
    ['clear A..B', 'DRM_IOCTL_AMDGPU_GEM_VA', va('CLEAR', P, P + 16n, []), F1],
    ['replace R', 'DRM_IOCTL_AMDGPU_GEM_VA', va('REPLACE', P, P, ['PAGE_READABLE'], 0x1000n), F1],
    [
      'replace R, delayed',
      'DRM_IOCTL_AMDGPU_GEM_VA',
      va('REPLACE', P, P, ['PAGE_READABLE', 'DELAY_UPDATE'], 0x1000n),
      F1,
    ],
    KFD_IMPORT,
    ['KFD map', 'AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: KFD_HANDLE, device_ids: [GPU_A] }, KFD],
    ['KFD unmap', 'AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', { handle: KFD_HANDLE, device_ids: [GPU_A] }, KFD],
    KFD_FREE,
    ['close F1:1', 'DRM_IOCTL_GEM_CLOSE', { handle: 1 }, F1],
  ],
  4,
);

export const AMDGPU_CONFIGS: SuiteConfig[] = [GEM, GEM_V3, BO_VA];
