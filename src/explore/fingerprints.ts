/**
 * A set of state fingerprints (non-negative integers below 2^53) with open
 * addressing over a Float64Array: no object per state, memory linear in the number
 * of states, and an index per state so that parent pointers can be kept in a typed
 * array beside it.
 */
export class FingerprintSet {
  private keys: Float64Array;
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 16) {
    let cap = 1;
    while (cap < capacity * 2) cap <<= 1;
    this.keys = new Float64Array(cap).fill(-1);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** A 32-bit mix of the fingerprint (both halves of the double's integer). */
  private static hash(fp: number): number {
    const lo = fp >>> 0;
    const hi = fp < 4294967296 ? 0 : Math.floor(fp / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** The index of `fp`, inserting it with index `size` when new; returns [index, isNew]. */
  add(fp: number): number {
    if (!Number.isSafeInteger(fp) || fp < 0) throw new RangeError(`fingerprint ${fp} is not an integer in 0..2^53`);
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let i = FingerprintSet.hash(fp) & this.mask;
    for (;;) {
      const k = this.keys[i]!;
      if (k === -1) {
        this.keys[i] = fp;
        this.slots[i] = this.size;
        this.size += 1;
        return -(this.size - 1) - 1; // negative: new, index = -r - 1
      }
      if (k === fp) return this.slots[i]!;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldSlots = this.slots;
    this.keys = new Float64Array(oldKeys.length * 2).fill(-1);
    this.slots = new Int32Array(oldKeys.length * 2);
    this.mask = this.keys.length - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j]!;
      if (k === -1) continue;
      let i = FingerprintSet.hash(k) & this.mask;
      while (this.keys[i] !== -1) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.slots[i] = oldSlots[j]!;
    }
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.keys.byteLength + this.slots.byteLength;
  }
}
