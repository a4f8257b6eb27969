/**
 * One worker thread of `--workers N` (src/explore/parallel.ts). It owns the states
 * whose fingerprint is ≡ its index (mod N): their fingerprint set, their parent
 * pointers and the frontier among them. Per level the coordinator asks it to expand
 * its frontier (successors go out in one batch per owner), then hands it the batches
 * addressed to it, which it deduplicates and checks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../ioctls/all.js';
import type { NamedViolation } from '../invariants/index.js';
import { FingerprintSet } from './fingerprints.js';
import { buildSpace, type ModelSpec } from './parallel-space.js';
import { doubled } from '../typed-array.js';

export interface Batch {
  fps: number[];
  parents: number[];
  labels: number[];
  states: unknown[];
}

export type Request =
  { type: 'expand' } | { type: 'absorb'; batches: Batch[] } | { type: 'parent'; fp: number } | { type: 'close' };

export type Reply =
  | { type: 'expanded'; transitions: number; outboxes: Batch[]; stuck: number | null }
  | {
      type: 'absorbed';
      added: number;
      frontier: number;
      violation: { fp: number; violations: NamedViolation[] } | null;
    }
  | { type: 'parent'; parent: number; label: number };

const { spec, index, n } = workerData as { spec: ModelSpec; index: number; n: number };
const space = buildSpace(spec);
const seen = new FingerprintSet();
let parentOf = new Float64Array(1 << 12);
let labelOf = new Int32Array(1 << 12);
let frontier: { fp: number; state: unknown }[] = [];

const owner = (fp: number) => fp % n;

function remember(fp: number, parent: number, label: number): boolean {
  const r = seen.add(fp);
  if (r >= 0) return false;
  const i = -r - 1;
  if (i >= parentOf.length) {
    parentOf = doubled(parentOf);
    labelOf = doubled(labelOf);
  }
  parentOf[i] = parent;
  labelOf[i] = label;
  return true;
}

const fp0 = space.fingerprint(space.initial);
if (owner(fp0) === index) {
  remember(fp0, -1, -1);
  frontier.push({ fp: fp0, state: space.initial });
}

function expand(): Reply {
  const outboxes: Batch[] = Array.from({ length: n }, () => ({ fps: [], parents: [], labels: [], states: [] }));
  let transitions = 0;
  let stuck: number | null = null;
  for (const { fp, state } of frontier) {
    let moved = false;
    space.expand(state, (label, next) => {
      transitions += 1;
      const f = space.fingerprint(next);
      if (f !== fp) moved = true;
      const box = outboxes[owner(f)]!;
      box.fps.push(f);
      box.parents.push(fp);
      box.labels.push(label);
      box.states.push(next);
    });
    if (!moved && stuck === null && space.stuck?.(state)) stuck = fp;
  }
  return { type: 'expanded', transitions, outboxes, stuck };
}

function absorb(batches: Batch[]): Reply {
  const next: { fp: number; state: unknown }[] = [];
  let violation: { fp: number; violations: NamedViolation[] } | null = null;
  for (const b of batches)
    for (let i = 0; i < b.fps.length; i++) {
      const fp = b.fps[i]!;
      if (!remember(fp, b.parents[i]!, b.labels[i]!)) continue;
      const state = b.states[i];
      const bad = space.check(state);
      if (bad.length && violation === null) violation = { fp, violations: bad };
      next.push({ fp, state });
    }
  frontier = next;
  return { type: 'absorbed', added: next.length, frontier: next.length, violation };
}

function parent(fp: number): Reply {
  const i = seen.add(fp);
  if (i < 0) throw new Error(`worker ${index}: state ${fp} is not one of mine`);
  return { type: 'parent', parent: parentOf[i]!, label: labelOf[i]! };
}

parentPort!.on('message', (m: Request) => {
  if (m.type === 'close') return parentPort!.close();
  parentPort!.postMessage(m.type === 'expand' ? expand() : m.type === 'absorb' ? absorb(m.batches) : parent(m.fp));
});
