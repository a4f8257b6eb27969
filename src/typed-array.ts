/**
 * Typed arrays that grow by doubling: the explorers' per-state tables, the reader's call
 * index by line, the reader thread's batches.
 */
type Growable = Float64Array | Int32Array | Uint16Array | BigUint64Array;

/** A typed array twice as long as `a`, of its type, holding `a`'s values first and zeros after. */
export function doubled<T extends Growable>(a: T): T {
  const b = new (a.constructor as new (length: number) => T)(a.length * 2);
  (b as unknown as { set(from: T): void }).set(a);
  return b;
}
