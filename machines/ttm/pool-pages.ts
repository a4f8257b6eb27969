/**
 * The page bookkeeping every tt algorithm shares: one run over a private copy of the tt
 * (machines/algorithm.ts) with the ledger operations of the kernel's page and shmem
 * handling — pages allocated and freed, `ttm_backup_drop` of a handle,
 * `ttm_pool_free_range` over a part of the page vector — each recording a double free
 * or a double drop in the ledger instead of corrupting memory (A.8 2, 3).
 */
import { AlgorithmRun } from '../algorithm.js';
import type { FaultSite } from '../../src/world/faults.js';
import type { TtContext } from './tt-context.js';

/** MAX_PAGE_ORDER on x86-64 (include/linux/mmzone.h). */
export const MAX_PAGE_ORDER = 10;

export const EINVAL = -22;
export const ENOMEM = -12;
export const EBUSY = -16;

/** __fls(n): index of the most significant set bit (n > 0). */
export function fls(n: number): number {
  return 31 - Math.clz32(n);
}

/** One tt algorithm's run: its private copy of the tt and the ledger operations on it. */
export class TtRun extends AlgorithmRun<TtContext> {
  /** Allocate `n` consecutive 4 KiB pages (a block of order log2 n): the id of the head page. */
  allocPages(n: number): number {
    const head = this.c.ledger.next_page;
    for (let i = 0; i < n; i++) this.c.ledger.live[head + i] = true;
    this.c.ledger.next_page += n;
    return head;
  }
  /**
   * __ttm_pool_alloc's block loop (spec A.4.1, A.4.3), with and without a restore: while
   * `left()` pages remain, a block of the largest order that fits (at most MAX_PAGE_ORDER), one
   * pass of `site` per attempt, a failed attempt retried one order lower; each block allocated is
   * handed to `block`, whose error ends the loop. An order-0 failure → -ENOMEM; what the caller
   * frees then is its own (with a restore, nothing).
   */
  allocBlocks(site: FaultSite, left: () => number, block: (head: number, order: number) => number): number {
    let order = Math.min(MAX_PAGE_ORDER, fls(left()));
    while (left() > 0) {
      order = Math.min(order, fls(left()));
      if (this.pass(site)) {
        if (order > 0) {
          order -= 1;
          continue;
        }
        return ENOMEM;
      }
      const err = block(this.allocPages(1 << order), order);
      if (err) return err;
    }
    return 0;
  }
  freePage(id: number): void {
    if (this.c.ledger.live[id]) delete this.c.ledger.live[id];
    else this.c.ledger.bad_frees += 1;
  }
  /** ttm_backup_drop() */
  drop(h: number): void {
    if (h >= 1 && Object.hasOwn(this.c.shmem, h - 1)) delete this.c.shmem[h - 1];
    else this.c.ledger.bad_drops += 1;
  }
  /**
   * ttm_pool_free_range(): a handle ≥ 1 is dropped, handle 0 skipped, a page freed;
   * every slot of the range is left NULL.
   */
  freeRange(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const s = this.c.slots[i];
      if (s?.t === 'handle') {
        if (s.h !== 0) this.drop(s.h);
      } else if (s?.t === 'page') this.freePage(s.id);
      this.c.slots[i] = null;
    }
  }
}
