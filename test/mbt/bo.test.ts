/** Model-based test of kfd_bo (machines/kfd/bo.ts) through the handler layer. */
import { describe, expect, it } from 'vitest';
import type { BoContext } from '../../machines/kfd/bo.js';
import { boGttAdapter, boUserptrAdapter } from './adapters/bo.js';
import { mbtSuite } from './adapters/suite.js';
import { ERRNO, GPU_A, GPU_B, KfdWorld } from './adapters/world.js';

mbtSuite([boGttAdapter, boUserptrAdapter], { spec: '§5.2.4, §5.4, §5.5, §7.2, §11.3' });

describe('kfd_bo: exported is sticky until FREE (kfd_mem_export_dmabuf caches mem->dmabuf)', () => {
  it('closing the exported fd does not release the dma-buf: the kgd_mem keeps its own reference until FREE', () => {
    const w = new KfdWorld();
    w.acquireVm(GPU_A);
    w.acquireVm(GPU_B);
    const h = w.alloc(GPU_A, 0x7f0000000000n, 1n << 20n, ['GTT', 'WRITABLE']);
    const bo = w.boId(h);
    const fd = w.ioctl('AMDKFD_IOC_EXPORT_DMABUF', { handle: h, flags: 0 }).dmabuf_fd as number;
    const dmabuf = (w.world.objects[bo]!.context as BoContext).dmabuf!;
    w.call(100, 'close', { fd });
    expect(w.world.objects[bo]!.value).toMatchObject({ live: { export: 'exported' } });
    expect(w.world.files[dmabuf]?.refs).toBe(1);
    w.ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: h });
    expect(w.world.objects[bo]).toBeUndefined();
    expect(w.world.files[dmabuf]).toBeUndefined();
  });

  it('an importer sharing the dma-buf holds its own reference too, so the last release always follows a FREE', () => {
    const w = new KfdWorld();
    w.acquireVm(GPU_A);
    w.acquireVm(GPU_B);
    const h = w.alloc(GPU_A, 0x7f0000000000n, 1n << 20n, ['GTT', 'WRITABLE']);
    const fd = w.ioctl('AMDKFD_IOC_EXPORT_DMABUF', { handle: h, flags: 0 }).dmabuf_fd as number;
    const imported = w.ioctl('AMDKFD_IOC_IMPORT_DMABUF', { va_addr: 0x7f1000000000n, gpu_id: GPU_B, dmabuf_fd: fd })
      .handle as bigint;
    w.ioctl('AMDKFD_IOC_EXPORT_DMABUF', { handle: imported, flags: 0 });
    const importer = w.boId(imported);
    w.ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: h });
    expect(w.world.objects[importer]!.value).toMatchObject({ live: { export: 'exported' } });
  });

  it('EXPORT_DMABUF of a userptr BO is refused (-EPERM) and the BO stays unexported', () => {
    const w = new KfdWorld();
    w.acquireVm(GPU_A);
    const h = w.alloc(GPU_A, 0x7f0000000000n, 1n << 20n, ['USERPTR', 'WRITABLE'], 0x7ffd00000000n);
    w.ioctl('AMDKFD_IOC_EXPORT_DMABUF', { handle: h, flags: 0 }, -ERRNO.EPERM);
    expect(w.world.objects[w.boId(h)]!.value).toMatchObject({ live: { export: 'notExported' } });
  });
});
