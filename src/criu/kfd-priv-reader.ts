/**
 * The bounds-checked little-endian cursor the `priv_data` decoders read through: every read is
 * preceded by `need()`, which rejects a read past the end as the kernel does (-EINVAL).
 */
import { EINVAL, PrivDataError } from './kfd-priv-layout.js';

/** A bounds-checked cursor over a blob; `need` throws PrivDataError (-EINVAL) on overflow. */
export class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly blob: Uint8Array) {
    this.view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  }
  get remaining(): number {
    return this.blob.byteLength - this.pos;
  }
  /** Mirrors `if (*priv_offset + size > max_priv_data_size) return -EINVAL;`. */
  need(n: number, field: string): void {
    if (n > this.remaining) {
      throw new PrivDataError(
        `blob overflow: ${field} needs ${n} bytes at offset ${this.pos} but only ` +
          `${this.remaining} of ${this.blob.byteLength} remain`,
        this.pos,
        field,
        EINVAL,
      );
    }
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  u64(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }
}
