/**
 * The GEM object whose pages a BO shows (`contentGem`, `findContentGem`,
 * src/ioctls/amdgpu/kernel/gem.ts): an object's own, an import's its exporter's (a dma-buf of
 * another GPU is a new object that imports it, spec §8.2 PRIME_FD_TO_HANDLE), followed through
 * the import's dma-buf file; `findContentGem` gives undefined where `contentGem` throws.
 */
import { describe, expect, it } from 'vitest';
import { contentGem, findContentGem } from '../../src/ioctls/amdgpu/kernel/gem.js';
import { Drm, RA, RB } from '../conformance/amdgpu-helpers.js';

describe('spec §8.2: the GEM object whose pages an object shows', () => {
  it('its own for an object created here; the exporter’s for an import of another GPU’s dma-buf', () => {
    const h = new Drm();
    const exported = h.create();
    const own = h.gem(exported, RA)!;
    const imported = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd: h.exportFd(exported) }, RB)).out.handle as number;
    const importer = h.gem(imported, RB)!;
    expect(importer).not.toBe(own); // another GPU: a new object attached to the dma-buf
    expect(findContentGem(h.w, own)?.id).toBe(own);
    expect(findContentGem(h.w, importer)?.id).toBe(own);
    expect(contentGem(h.w, importer).id).toBe(own);
  });

  it('no such object: findContentGem gives undefined, contentGem throws', () => {
    const h = new Drm();
    expect(findContentGem(h.w, 'gem#999')).toBeUndefined();
    expect(() => contentGem(h.w, 'gem#999')).toThrow('no GEM object gem#999');
  });
});
