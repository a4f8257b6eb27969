/**
 * Breadth-first exploration of a model with numeric state fingerprints (design
 * "XState traps": an index queue and parent pointers, never a path per state; a
 * limit that reports instead of throwing). The first violation found is at the
 * smallest depth, so its path is a shortest counterexample.
 */
import { doubled } from '../typed-array.js';
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

/**
 * The explored states by index (the order they were found): each one's fingerprint, its
 * parent's index and the label that reached it. Typed arrays that double when full: a
 * parent pointer per state, never a path.
 */
class StateIndex {
  private fps = new Float64Array(1 << 16);
  private parent = new Int32Array(1 << 16);
  private via = new Int32Array(1 << 16);

  /** Record state `index`, reached from `parent` by `label` (-1 and -1 for the initial state). */
  record(index: number, fp: number, parent: number, label: number): void {
    if (index >= this.fps.length) this.grow();
    this.fps[index] = fp;
    this.parent[index] = parent;
    this.via[index] = label;
  }

  fingerprint(index: number): number {
    return this.fps[index]!;
  }

  /** The labels from the initial state to state `index`. */
  pathTo(index: number, labelName: (label: number) => string): string[] {
    const labels: string[] = [];
    for (let i = index; this.parent[i]! >= 0; i = this.parent[i]!) labels.push(labelName(this.via[i]!));
    return labels.reverse();
  }

  get bytes(): number {
    return this.fps.byteLength + this.parent.byteLength + this.via.byteLength;
  }

  private grow(): void {
    this.fps = doubled(this.fps);
    this.parent = doubled(this.parent);
    this.via = doubled(this.via);
  }
}

export function exploreNumeric(model: NumericModel, opts: ExploreOptions = {}): ExploreResult {
  const t0 = process.hrtime.bigint();
  const maxStates = opts.maxStates ?? Number.POSITIVE_INFINITY;
  const maxDepth = opts.maxDepth ?? Number.POSITIVE_INFINITY;
  const every = opts.progressEvery ?? 1 << 16;
  const seen = new FingerprintSet();
  const states = new StateIndex();
  const labelName = (label: number) => model.labelName(label);

  const init = model.initial();
  seen.add(init);
  states.record(0, init, -1, -1);
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
    states.record(index, next, current, label);
    if (check) {
      const bad = check(next);
      if (bad) {
        violation = { invariant: bad, path: states.pathTo(index, labelName) };
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
    model.successors(states.fingerprint(head), emit);
    head += 1;
    if (opts.onProgress && head % every === 0) opts.onProgress(seen.size, transitions, depth);
  }
  return {
    states: seen.size,
    transitions,
    depth,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    limited,
    violation,
    memoryBytes: seen.bytes + states.bytes,
  };
}
