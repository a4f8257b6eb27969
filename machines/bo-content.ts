/**
 * The content of a buffer object in device memory (an i915 LMEM object, an Xe BO):
 * `content` is what its pages hold now, `expected` what the workload wrote and nothing
 * discarded on purpose. Keeping both lets the invariants tell a loss the kernel makes on
 * purpose (PM_VOLATILE, PINNED_NORESTORE) from one it must not make.
 */
export interface BoContent {
  content: Record<number, number>;
  expected: Record<number, number>;
}

/** A workload store of `value` into page `page`: both maps follow it (a zero page is absent). */
export function workloadStore(c: BoContent, page: number, value: number): void {
  if (value === 0) {
    delete c.content[page];
    delete c.expected[page];
  } else {
    c.content[page] = value;
    c.expected[page] = value;
  }
}

/** The object is freed (kept as a tombstone): its pages, and what was expected of them, go with it. */
export function freeBo(c: BoContent & { destroyed: boolean }): void {
  c.destroyed = true;
  c.content = {};
  c.expected = {};
}
