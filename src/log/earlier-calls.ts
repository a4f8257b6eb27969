/**
 * The call of every event line read so far, for the static check of `$<line>.<field>`
 * references (the field must be an out field of that line's call). A log of millions of
 * lines keeps this for all of them, so it is compact: an index into the distinct calls
 * per line (two bytes a line, not a pointer), or, when the lines that are referenced are
 * known beforehand (`keep`, replay's pre-scan), only theirs.
 */
import type { CallDef } from '../ioctls/registry.js';
import { doubled } from '../typed-array.js';

export class EarlierCalls {
  private callIndex = new Uint16Array(1024);
  private readonly calls: CallDef[] = [];
  private readonly callNumber = new Map<CallDef, number>();
  private readonly kept = new Map<number, CallDef>();

  /** @param keep the lines that later lines reference, when known: only their calls are remembered. */
  constructor(readonly keep?: ReadonlySet<number>) {}

  remember(line: number, def: CallDef): void {
    if (this.keep) {
      if (this.keep.has(line)) this.kept.set(line, def);
      return;
    }
    let i = this.callNumber.get(def);
    if (i === undefined) {
      i = this.calls.push(def);
      this.callNumber.set(def, i);
    }
    if (line >= this.callIndex.length) this.callIndex = doubled(this.callIndex);
    this.callIndex[line] = i;
  }

  /** The call of an earlier event line (undefined when it was not remembered). */
  callOf(line: number): CallDef | undefined {
    if (this.keep) return this.kept.get(line);
    const i = line < this.callIndex.length ? this.callIndex[line]! : 0;
    return i === 0 ? undefined : this.calls[i - 1];
  }
}
