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

/**
 * One exploration's reached states and the counts its result reports. `emit` is the
 * successor callback: it records each new state, checks it, and stops the search at the
 * first violation or at the state limit.
 */
class NumericSearch {
  readonly seen = new FingerprintSet();
  readonly states = new StateIndex();
  transitions = 0;
  limited: ExploreResult['limited'] = null;
  violation: ExploreResult['violation'] = null;
  stop = false;
  /** The index of the state whose successors are being emitted. */
  current = 0;
  private readonly labelName = (label: number) => this.model.labelName(label);

  constructor(
    private readonly model: NumericModel,
    private readonly maxStates: number,
  ) {
    const init = model.initial();
    this.seen.add(init);
    this.states.record(0, init, -1, -1);
    const bad = model.check?.(init) ?? null;
    if (bad) {
      this.violation = { invariant: bad, path: [] };
      this.stop = true;
    }
  }

  readonly emit = (label: number, next: number): void => {
    this.transitions += 1;
    if (this.stop) return;
    const r = this.seen.add(next);
    if (r >= 0) return;
    const index = -r - 1;
    this.states.record(index, next, this.current, label);
    const bad = this.model.check?.(next);
    if (bad) {
      this.violation = { invariant: bad, path: this.states.pathTo(index, this.labelName) };
      this.stop = true;
    }
    if (this.seen.size >= this.maxStates) {
      this.limited = 'states';
      this.stop = true;
    }
  };
}

export function exploreNumeric(model: NumericModel, opts: ExploreOptions = {}): ExploreResult {
  const t0 = process.hrtime.bigint();
  const maxDepth = opts.maxDepth ?? Number.POSITIVE_INFINITY;
  const every = opts.progressEvery ?? 1 << 16;
  const search = new NumericSearch(model, opts.maxStates ?? Number.POSITIVE_INFINITY);
  const { seen, states } = search;
  let head = 0;
  let depth = 0;
  let levelEnd = 1; // index of the first state of the next level
  while (head < seen.size && !search.stop) {
    if (head === levelEnd) {
      depth += 1;
      levelEnd = seen.size;
      if (depth >= maxDepth) {
        search.limited = 'depth';
        break;
      }
    }
    search.current = head;
    model.successors(states.fingerprint(head), search.emit);
    head += 1;
    if (opts.onProgress && head % every === 0) opts.onProgress(seen.size, search.transitions, depth);
  }
  return {
    states: seen.size,
    transitions: search.transitions,
    depth,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    limited: search.limited,
    violation: search.violation,
    memoryBytes: seen.bytes + states.bytes,
  };
}
