/**
 * Harness of the TTM / i915 / Xe tests: a world without GPUs, calls given in their log
 * form (decoded through each call's schema, as the log reader does) and applied with
 * applyInPlace, a recorder that turns what was run into a replayable JSONL log, and a
 * small bounded breadth-first search over sequences of actions that reports the
 * shortest sequence after which an invariant does not hold.
 *
 * The harness computes no expected value: tests state those from the spec.
 */
import type { TtContext } from '../../machines/ttm/pool.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { canonicalize } from '../../src/mbt/serialize.js';
import { ERRNO } from '../../src/uapi/errno.js';
import { applyInPlace, thaw } from '../../src/world/step.js';
import { parseTopology } from '../../src/world/topology.js';
import type { Variants, World } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';

/** Negative errnos, as the kernel returns them. */
export const E = Object.fromEntries(Object.entries(ERRNO).map(([k, v]) => [k, -v])) as unknown as {
  readonly [K in keyof typeof ERRNO]: number;
};

export const TOPOLOGY = parseTopology({ gpus: [] }, undefined);

/** One call in log form. */
export interface RawCall {
  call: string;
  args?: Record<string, unknown>;
}

export interface Recorded extends RawCall {
  ret: number;
  out: Record<string, unknown>;
}

/** A world plus the calls applied to it. */
export class Sim {
  world: World;
  readonly log: Recorded[] = [];
  constructor(readonly variants: Partial<Variants> = {}) {
    this.world = createWorld(TOPOLOGY, variants);
  }

  call(call: string, args: Record<string, unknown> = {}): { ret: number; out: Record<string, unknown> } {
    const def = callDef(call);
    if (!def) throw new Error(`no call ${call}`);
    const r = applyInPlace(this.world, { call, args: decodeArgs(def.args, args, 'args') });
    this.log.push({ call, args, ret: r.ret, out: r.out });
    return r;
  }

  ret(call: string, args: Record<string, unknown> = {}): number {
    return this.call(call, args).ret;
  }

  /** Arm a fault site. */
  fault(site: string, opts: { errno?: string; after?: number; count?: number } = {}): void {
    const args: Record<string, unknown> = { site, after: opts.after ?? 0 };
    if (opts.errno) args.errno = opts.errno;
    if (opts.count !== undefined) args.count = opts.count;
    const r = this.ret('fault', args);
    if (r !== 0) throw new Error(`fault ${site}: ${r}`);
  }

  /** Disarm every fault site (each is armed only for the action that asks for it). */
  disarm(): void {
    for (const site of Object.keys(this.world.faults ?? {})) this.ret('fault', { site, count: 0 });
  }

  createTt(args: Record<string, unknown>): number {
    const r = this.call('ttm.create', args);
    if (r.ret !== 0) throw new Error(`ttm.create: ${r.ret}`);
    return r.out.tt as number;
  }

  read(args: Record<string, unknown>): { ret: number; value?: number } {
    const r = this.call('gpu_read', args);
    return r.ret === 0 ? { ret: 0, value: r.out.value as number } : { ret: r.ret };
  }

  clone(): Sim {
    const s = new Sim(this.variants);
    s.world = thaw(this.world);
    s.log.push(...this.log);
    return s;
  }

  /**
   * The calls so far as a JSONL log. `ret` is written where it is 0 or negative (the
   * log format's `ret` assertion), `out` always; pass `noAsserts` to leave both out.
   */
  jsonl(opts: { noAsserts?: boolean } = {}): string {
    const header: Record<string, unknown> = { gpucr: 1, topology: { gpus: [] } };
    if (Object.keys(this.variants).length) header.variants = this.variants;
    const lines = [JSON.stringify(header)];
    for (const c of this.log) {
      const line: Record<string, unknown> = { call: c.call, args: c.args ?? {} };
      if (!opts.noAsserts && c.ret <= 0) line.ret = c.ret;
      if (!opts.noAsserts && Object.keys(c.out).length) line.out = c.out;
      lines.push(JSON.stringify(line));
    }
    return `${lines.join('\n')}\n`;
  }
}

/** An action of the bounded search: a name and what it does to a simulation. */
export interface Action {
  name: string;
  run: (s: Sim) => void;
}

export interface Violation {
  invariant: string;
  object: string;
  message: string;
}

export interface SearchResult {
  /** Distinct (abstract) states visited. */
  states: number;
  /** The shortest action sequence after which `check` reported violations, if any. */
  counterexample?: { actions: string[]; sim: Sim; violations: Violation[] };
}

/**
 * Breadth-first search over action sequences of length ≤ depth from `start`, deduplicated
 * by `key(world)`; `check` runs after every action. Stops at the first (shortest)
 * violating sequence.
 */
export function boundedSearch(
  start: Sim,
  actions: readonly Action[],
  depth: number,
  check: (w: World) => Violation[],
  key: (w: World) => string = (w) => canonicalize({ o: w.objects, f: w.faults }),
): SearchResult {
  const seen = new Set<string>([key(start.world)]);
  let frontier: { sim: Sim; path: string[] }[] = [{ sim: start, path: [] }];
  const initial = check(start.world);
  if (initial.length) return { states: 1, counterexample: { actions: [], sim: start, violations: initial } };
  for (let d = 0; d < depth && frontier.length; d++) {
    const next: typeof frontier = [];
    for (const { sim, path } of frontier) {
      for (const a of actions) {
        const s = sim.clone();
        a.run(s);
        const k = key(s.world);
        if (seen.has(k)) continue;
        seen.add(k);
        const v = check(s.world);
        if (v.length)
          return { states: seen.size, counterexample: { actions: [...path, a.name], sim: s, violations: v } };
        next.push({ sim: s, path: [...path, a.name] });
      }
    }
    frontier = next;
  }
  return { states: seen.size };
}

/**
 * The abstract key of a world for the search: object states and contexts without
 * page ids (a page is its content; the ledger is its count of live pages and its bad
 * frees and drops), plus the armed faults.
 */
export function abstractKey(w: World): string {
  const objects: Record<string, unknown> = {};
  for (const [id, rec] of Object.entries(w.objects)) {
    const c = rec.context as Record<string, unknown>;
    if (rec.kind === 'ttm.tt') {
      const slots = (c.slots as ({ t: string; v?: number; h?: number } | null)[]).map((s) =>
        s === null ? null : s.t === 'page' ? { p: s.v } : { h: s.h },
      );
      const ledger = c.ledger as { live: Record<number, true>; bad_frees: number; bad_drops: number };
      const restore = c.restore as { block: { values: number[] } | null } | null;
      objects[id] = {
        v: rec.value,
        c: {
          ...c,
          slots,
          ledger: { live: Object.keys(ledger.live).length, bad: [ledger.bad_frees, ledger.bad_drops] },
          restore: restore ? { ...restore, block: restore.block ? restore.block.values : null } : null,
        },
      };
    } else objects[id] = { v: rec.value, c };
  }
  return canonicalize({ objects, faults: w.faults ?? {} });
}

/** The context of tt number `n`. */
export function ttCtx(s: Sim, n: number): TtContext {
  return s.world.objects[`ttm.tt#${n}`]!.context as TtContext;
}

/** The state value of an object as a dotted path ("backedUp.full"). */
export function stateOf(s: Sim, id: string): string {
  const name = (v: unknown): string => {
    if (typeof v === 'string') return v;
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}.${name(x)}`)
      .join(',');
  };
  return name(s.world.objects[id]!.value);
}

/** Write `values[i]` to page i of tt `tt` (each must succeed). */
export function fillTt(s: Sim, tt: number, values: readonly number[]): void {
  values.forEach((value, page) => {
    const r = s.ret('gpu_write', { tt, page, value });
    if (r !== 0) throw new Error(`gpu_write tt ${tt} page ${page}: ${r}`);
  });
}

/** Read every page of tt `tt`: the values, or the errno of the first failing read. */
export function readTt(s: Sim, tt: number, pages: number): number[] | number {
  const out: number[] = [];
  for (let page = 0; page < pages; page++) {
    const r = s.read({ tt, page });
    if (r.ret !== 0) return r.ret;
    out.push(r.value!);
  }
  return out;
}
