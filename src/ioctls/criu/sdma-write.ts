/**
 * The amdgpu plugin's SDMA write of a BO's saved contents at restore (`sdma_copy_bo` with
 * SDMA_OP_VRAM_WRITE, spec §9.7), for render-node BOs (`restore_bo_contents_drm`, spec §9.8):
 * libdrm imports the BO from a dma-buf fd on the render node of its GPU
 * (`amdgpu_bo_import`), and an SDMA linear copy fills it from a bounce buffer. The model
 * writes the content model's u32 per page, one call per page as `gpu_write` does for KFD
 * BOs (the KFD content restore, src/criu/restore.ts), so the contents a restore puts into
 * render-node BOs are calls in its log and a replay of that log puts them there too.
 */
import { contentGem } from '../amdgpu/kernel/gem.js';
import { ERRNO } from '../../uapi/errno.js';
import { fileOf } from '../../world/world.js';
import { register } from '../registry.js';
import { u32 } from '../schema.js';

export const SDMA_WRITE = 'sdma_write';

// sdma_copy_bo(dmabuf_fd, …, SDMA_OP_VRAM_WRITE): amdgpu_bo_import(DMA_BUF_FD), then the copy (spec §9.7)
export const sdmaWrite = register<{ page: number; value: number }>({
  name: SDMA_WRITE,
  kind: 'syscall',
  needsPid: true,
  models:
    "the amdgpu CRIU plugin's SDMA write of one u32 page value into the BO a dma-buf fd names (sdma_copy_bo, SDMA_OP_VRAM_WRITE, after amdgpu_bo_import of the fd on its GPU's render node; spec §9.7, §9.8 restore_bo_contents_drm)",
  checks: [
    'fd not open → -EBADF',
    'not a dma-buf fd (amdgpu_bo_import fails) → -EINVAL',
    'page beyond the BO → -EINVAL (the copy would run past the BO)',
  ],
  args: { page: u32, value: u32 },
  out: [],
  run({ w, task, call }, a) {
    const file = call.fd === undefined ? undefined : fileOf(w, task, call.fd);
    if (!file) return -ERRNO.EBADF;
    if (file.kind !== 'dmabuf' || !w.gems[file.gem]) return -ERRNO.EINVAL;
    const gem = contentGem(w, file.gem);
    if (BigInt(a.page) * BigInt(w.topology.page_size) >= gem.size) return -ERRNO.EINVAL;
    if (a.value === 0) delete gem.content[a.page];
    else gem.content[a.page] = a.value;
    return 0;
  },
});
