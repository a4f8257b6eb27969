/**
 * `gpucr check --workers N` (issue 7 item 1): breadth-first exploration with the
 * state space partitioned across worker threads by fingerprint (a state belongs to
 * worker fp mod N, which alone remembers it, its parent and the action that reached
 * it). The search is level-synchronous: every worker expands its part of the
 * frontier, the successors are routed to their owners, and each owner keeps the new
 * ones as its part of the next frontier. The levels are the single-threaded
 * explorer's, so a run that ends (or stops at the depth bound) reports the same
 * distinct states, transitions and depth, and a violation is found at the same,
 * smallest depth; its shortest path is rebuilt by asking the owners for parents.
 *
 * What differs: with several violations at that depth, the one reported is the first
 * in worker order, not in the single-threaded queue's order; a run stopped by the
 * states bound stops at the end of the level that crosses it (states ≥ the bound).
 */
import { Worker } from 'node:worker_threads';
import type { NamedViolation } from '../invariants/index.js';
import { runLog } from './run-log.js';
import { buildSpace, buildWorldModel, labelNames, type ModelSpec } from './parallel-space.js';
import type { Batch, Reply, Request } from './parallel-worker.js';

export type { ModelSpec } from './parallel-space.js';

export interface ParallelResult {
  workers: number;
  states: number;
  transitions: number;
  depth: number;
  seconds: number;
  limited: 'states' | 'depth' | null;
  violation: { violations: NamedViolation[]; actions: string[]; log: string | null } | null;
}

/** A worker thread with a request/reply channel (one request in flight at a time). */
class Channel {
  private waiting: ((r: Reply) => void) | null = null;
  private failed: Error | null = null;

  constructor(readonly worker: Worker) {
    worker.on('message', (r: Reply) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(r);
    });
    worker.on('error', (e) => {
      this.failed = e;
    });
  }

  ask<T extends Reply['type']>(req: Request, want: T): Promise<Extract<Reply, { type: T }>> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      this.waiting = (r) => {
        this.worker.off('error', reject);
        if (r.type !== want) reject(new Error(`worker replied ${r.type} to ${req.type}`));
        else resolve(r as Extract<Reply, { type: T }>);
      };
      this.worker.postMessage(req);
    });
  }
}

function startWorkers(spec: ModelSpec, n: number): Channel[] {
  // Built: parallel-worker.js beside this module (dist/src/explore).
  const url = new URL('./parallel-worker.js', import.meta.url);
  return Array.from({ length: n }, (_, index) => new Channel(new Worker(url, { workerData: { spec, index, n } })));
}

/** The labels from the initial state to `fp`, asking each state's owner for its parent. */
async function pathTo(channels: Channel[], fp: number): Promise<number[]> {
  const labels: number[] = [];
  for (let f = fp; ;) {
    const r = await channels[f % channels.length]!.ask({ type: 'parent', fp: f }, 'parent');
    if (r.parent < 0) break;
    labels.push(r.label);
    f = r.parent;
  }
  return labels.reverse();
}

function violationOf(spec: ModelSpec, labels: number[], violations: NamedViolation[]): ParallelResult['violation'] {
  const { names, actions } = labelNames(spec, labels);
  return { violations, actions: names, log: spec.kind === 'family' ? runLog(buildWorldModel(spec), actions) : null };
}

/** What one level of the search found: its transitions, then a stuck world or the new states and the first violation. */
interface Level {
  transitions: number;
  /** The fingerprint of a world no action changes that is not final (the deadlock check). */
  stuck: number | null;
  added: number;
  bad: { fp: number; violations: NamedViolation[] } | null;
}

/**
 * One level: every worker expands its part of the frontier, then (unless one found a stuck
 * world) every owner takes the successors routed to it as its part of the next frontier.
 */
async function level(channels: Channel[]): Promise<Level> {
  const expanded = await Promise.all(channels.map((c) => c.ask({ type: 'expand' }, 'expanded')));
  const transitions = expanded.reduce((a, e) => a + e.transitions, 0);
  const stuck = expanded.find((e) => e.stuck !== null)?.stuck ?? null;
  if (stuck !== null) return { transitions, stuck, added: 0, bad: null };
  const absorbed = await Promise.all(
    channels.map((c, owner) =>
      c.ask({ type: 'absorb', batches: expanded.map((e) => e.outboxes[owner] as Batch) }, 'absorbed'),
    ),
  );
  const added = absorbed.reduce((a, r) => a + r.added, 0);
  return { transitions, stuck: null, added, bad: absorbed.find((r) => r.violation !== null)?.violation ?? null };
}

/** What a search reports, before the run adds its workers and seconds. */
type SearchResult = Omit<ParallelResult, 'seconds' | 'workers'>;

/**
 * The level-synchronous search from the initial state (already checked) over the workers:
 * levels until the frontier is empty, a bound is reached, or a level finds a stuck world or a
 * violation, whose shortest path the owners give.
 */
async function search(
  spec: ModelSpec,
  channels: Channel[],
  maxStates: number,
  maxDepth: number,
): Promise<SearchResult> {
  let states = 1;
  let transitions = 0;
  let depth = 0;
  let frontier = 1;
  while (frontier > 0) {
    if (depth >= maxDepth) return { states, transitions, depth, limited: 'depth', violation: null };
    const { stuck, added, bad, ...l } = await level(channels);
    transitions += l.transitions;
    if (stuck !== null) {
      const labels = await pathTo(channels, stuck);
      const message = 'no action changes this world and it is not final';
      const violation = violationOf(spec, labels, [{ invariant: 'deadlock', message }]);
      return { states, transitions, depth, limited: null, violation };
    }
    frontier = added;
    states += frontier;
    if (bad) {
      const labels = await pathTo(channels, bad.fp);
      return {
        states,
        transitions,
        depth: depth + 1,
        limited: null,
        violation: violationOf(spec, labels, bad.violations),
      };
    }
    if (frontier > 0) depth += 1;
    if (states >= maxStates) return { states, transitions, depth, limited: 'states', violation: null };
  }
  return { states, transitions, depth, limited: null, violation: null };
}

/** Explore `spec` on `opts.workers` threads: the initial state checked here, the rest by search(), then the workers closed. */
export async function exploreParallel(
  spec: ModelSpec,
  opts: { workers: number; maxStates?: number; maxDepth?: number },
): Promise<ParallelResult> {
  const t0 = process.hrtime.bigint();
  const maxStates = opts.maxStates ?? Number.POSITIVE_INFINITY;
  const maxDepth = opts.maxDepth ?? Number.POSITIVE_INFINITY;
  const result = (r: SearchResult): ParallelResult => ({
    workers: opts.workers,
    ...r,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  });
  const space = buildSpace(spec);
  const initialBad = space.check(space.initial);
  if (initialBad.length)
    return result({ states: 1, transitions: 0, depth: 0, limited: null, violation: violationOf(spec, [], initialBad) });

  const channels = startWorkers(spec, opts.workers);
  try {
    return result(await search(spec, channels, maxStates, maxDepth));
  } finally {
    for (const c of channels) c.worker.postMessage({ type: 'close' } satisfies Request);
    await Promise.all(channels.map((c) => c.worker.terminate()));
  }
}
