/**
 * Breadth-first exploration of a model with numeric state fingerprints (design
 * "XState traps": an index queue and parent pointers, never a path per state; a
 * limit that reports instead of throwing). The first violation found is at the
 * smallest depth, so its path is a shortest counterexample.
 */
import { FingerprintSet } from './fingerprints.js';

/** A model the explorer can walk: states are encoded as integers below 2^53. */
export interface NumericModel {
  initial(): number;
  /** Call `emit(label, next)` for every enabled transition of `state`. */
  successors(state: number, emit: (label: number, next: number) => void): void;
  /** The name of a transition label (for counterexample paths). */
  labelName(label: number): string;
  /** A violated invariant's name, or null. */
  check?(state: number): string | null;
}

export interface ExploreOptions {
  /** Stop after this many distinct states (reported as `limited`). */
  maxStates?: number;
  /** Stop at this depth. */
  maxDepth?: number;
  /** Called every `progressEvery` states with the running counts. */
  onProgress?: (states: number, transitions: number, depth: number) => void;
  progressEvery?: number;
}

export interface ExploreResult {
  states: number;
  transitions: number;
  depth: number;
  seconds: number;
  /** Why the exploration stopped before exhausting the space, if it did. */
  limited: 'states' | 'depth' | null;
  violation: { invariant: string; path: string[] } | null;
  memoryBytes: number;
}

export function exploreNumeric(model: NumericModel, opts: ExploreOptions = {}): ExploreResult {
  const t0 = process.hrtime.bigint();
  const maxStates = opts.maxStates ?? Number.POSITIVE_INFINITY;
  const maxDepth = opts.maxDepth ?? Number.POSITIVE_INFINITY;
  const every = opts.progressEvery ?? 1 << 16;
  const seen = new FingerprintSet();
  // Per state index: its fingerprint, its parent index and the label that reached it.
  let fps = new Float64Array(1 << 16);
  let parent = new Int32Array(1 << 16);
  let via = new Int32Array(1 << 16);
  const ensure = (n: number) => {
    if (n < fps.length) return;
    const grow = <T extends Float64Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    fps = grow(fps);
    parent = grow(parent);
    via = grow(via);
  };
  const pathTo = (index: number): string[] => {
    const labels: string[] = [];
    for (let i = index; parent[i]! >= 0; i = parent[i]!) labels.push(model.labelName(via[i]!));
    return labels.reverse();
  };
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;

  const init = model.initial();
  seen.add(init);
  fps[0] = init;
  parent[0] = -1;
  via[0] = -1;
  let transitions = 0;
  let head = 0;
  let depth = 0;
  let levelEnd = 1; // index of the first state of the next level
  let limited: ExploreResult['limited'] = null;
  let violation: ExploreResult['violation'] = null;
  const firstBad = model.check?.(init) ?? null;
  if (firstBad) violation = { invariant: firstBad, path: [] };

  let current = 0;
  let stop = violation !== null;
  const check = model.check;
  const emit = (label: number, next: number) => {
    transitions += 1;
    if (stop) return;
    const r = seen.add(next);
    if (r >= 0) return;
    const index = -r - 1;
    ensure(index);
    fps[index] = next;
    parent[index] = current;
    via[index] = label;
    if (check) {
      const bad = check(next);
      if (bad) {
        violation = { invariant: bad, path: pathTo(index) };
        stop = true;
      }
    }
    if (seen.size >= maxStates) {
      limited = 'states';
      stop = true;
    }
  };

  while (head < seen.size && !stop) {
    if (head === levelEnd) {
      depth += 1;
      levelEnd = seen.size;
      if (depth >= maxDepth) {
        limited = 'depth';
        stop = true;
        break;
      }
    }
    current = head;
    model.successors(fps[head]!, emit);
    head += 1;
    if (opts.onProgress && head % every === 0) opts.onProgress(seen.size, transitions, depth);
  }
  return {
    states: seen.size,
    transitions,
    depth,
    seconds: elapsed(),
    limited,
    violation,
    memoryBytes: seen.bytes + fps.byteLength + parent.byteLength + via.byteLength,
  };
}
