/**
 * The dma-buf side of a render-node file's prime bookkeeping (drm_prime_file_private.dmabufs,
 * the rbtree drm_prime_lookup_buf_handle searches): dma-buf → the handles recorded for it.
 *
 * The world holds the entries once, handle → dma-buf (`DrmFilePriv.prime`); this index is
 * derived from them and kept beside the world, not in it, like a VM's mapping index
 * (src/world/vm.ts): built from the record the first time a record object is searched (a
 * fresh, thawed or drafted world builds its own), then kept up to date by primeAdd and
 * primeRemove (src/ioctls/drm/file.ts), the only writers of the record. Without it every
 * PRIME_FD_TO_HANDLE scanned all of the file's entries: a process importing n dma-bufs into
 * one render node took O(n²) (60 % of a round trip of 8,000 such BOs).
 */

type Prime = Readonly<Record<number, string>>;

const INDEXES = new WeakMap<Prime, Map<string, number[]>>();

/** The index of a prime record, built from it if this record object has none yet. */
export function primeIndex(prime: Prime): Map<string, number[]> {
  let index = INDEXES.get(prime);
  if (!index) {
    index = new Map();
    // integer keys enumerate in ascending order: each list is built sorted
    for (const h in prime) {
      const d = prime[h as unknown as number]!;
      const list = index.get(d);
      if (list) list.push(Number(h));
      else index.set(d, [Number(h)]);
    }
    INDEXES.set(prime, index);
  }
  return index;
}

/** Record that `handle` now names `dmabuf` (its list stays sorted). */
export function primeIndexAdd(index: Map<string, number[]>, dmabuf: string, handle: number): void {
  const list = index.get(dmabuf);
  if (!list) {
    index.set(dmabuf, [handle]);
    return;
  }
  let i = list.length;
  list.push(handle);
  for (; i > 0 && list[i - 1]! > handle; i--) list[i] = list[i - 1]!;
  list[i] = handle;
}

/** Record that `handle` no longer names `dmabuf`. */
export function primeIndexRemove(index: Map<string, number[]>, dmabuf: string, handle: number): void {
  const list = index.get(dmabuf);
  if (!list) return;
  const i = list.indexOf(handle);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) index.delete(dmabuf);
}
