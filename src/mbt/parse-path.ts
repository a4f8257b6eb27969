/**
 * Parsing a path of machine events into macro applications: which calls of the adapter,
 * one after the other, cause exactly these events on the subject (src/mbt/run.ts).
 *
 * A depth-first search: at a macro boundary, try each macro that may start there (its
 * precondition holds and its effect starts with the next event, or it is a set-up macro
 * without events); inside a macro, the next event must be the next of its effect. Search
 * states that led nowhere are remembered and not explored again.
 */
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { type Adapter, envAfter, type Macro, matches, type Sut } from './adapter.js';
import { canonicalize } from './serialize.js';

/** One application of a macro in a parsed path: events [start, end) of the path. */
export interface Application<S extends Sut, Env> {
  macro: Macro<S, Env>;
  start: number;
  end: number;
  env: Env;
}

/** A macro under way: its index, the position of the next event in its effect, where it started, the environment at its start. */
interface OpenMacro<Env> {
  m: number;
  pos: number;
  start: number;
  env: Env;
}

/**
 * Split a path into macro applications (set-up macros included), or null. With a
 * preferred macro, only a parse that uses it counts, and it is tried first everywhere.
 */
export function parseApplications<S extends Sut, Env>(
  adapter: Adapter<S, Env>,
  events: EventObject[],
  snaps: AnyMachineSnapshot[],
  preferred?: Macro<S, Env>,
): Application<S, Env>[] | null {
  return new PathParse(adapter.macros, events, snaps, preferred).from(adapter.initialEnv);
}

class PathParse<S extends Sut, Env> {
  /** Search states known not to lead to a parse. */
  private readonly failed = new Set<string>();
  /** Macro indices in the order they are tried at a boundary: eventful macros first, then set-up macros. */
  private readonly eventfulFirst: number[];
  /** The same with set-up macros first (while a preferred set-up macro is not used yet). */
  private readonly setupFirst: number[];

  constructor(
    private readonly macros: Macro<S, Env>[],
    private readonly events: EventObject[],
    private readonly snaps: AnyMachineSnapshot[],
    private readonly preferred: Macro<S, Env> | undefined,
  ) {
    // Macro indices in the order they are tried (a preferred macro first).
    const order = macros.map((_, i) => i);
    if (preferred) order.sort((x, y) => Number(macros[y] === preferred) - Number(macros[x] === preferred));
    const setup = order.filter((m) => macros[m]!.effect.length === 0);
    const eventful = order.filter((m) => macros[m]!.effect.length > 0);
    this.eventfulFirst = [...eventful, ...setup];
    this.setupFirst = [...setup, ...eventful];
  }

  from(env: Env): Application<S, Env>[] | null {
    return this.search(0, env, null, [], new Set());
  }

  /**
   * The parses of events[i..] given the environment, the macro under way (or null at a
   * boundary), the applications so far and the environments set-up macros produced
   * since the last event (a set-up macro may not bring one back: no loops).
   */
  private search(
    i: number,
    env: Env,
    cur: OpenMacro<Env> | null,
    acc: Application<S, Env>[],
    setups: Set<string>,
  ): Application<S, Env>[] | null {
    const used = this.preferred !== undefined && acc.some((x) => x.macro === this.preferred);
    const memo = canonicalize({ i, env, cur, setups: [...setups].sort(), used }, 'parse');
    if (this.failed.has(memo)) return null;
    let res: Application<S, Env>[] | null = null;
    if (cur === null) {
      // With a preferred macro, only a parse that uses it counts.
      if (i === this.events.length) return this.preferred && !used ? null : acc;
      res = this.startMacro(i, env, acc, setups, used);
    } else if (i < this.events.length && matches(this.macros[cur.m]!.effect[cur.pos]!, this.events[i]!))
      res = this.consume(i, env, cur, acc);
    if (!res) this.failed.add(memo);
    return res;
  }

  /** At a boundary before events[i]: the parse of the first candidate macro that leads to one. */
  private startMacro(
    i: number,
    env: Env,
    acc: Application<S, Env>[],
    setups: Set<string>,
    used: boolean,
  ): Application<S, Env>[] | null {
    // A preferred set-up macro is tried first of all.
    const candidates =
      this.preferred && this.preferred.effect.length === 0 && !used ? this.setupFirst : this.eventfulFirst;
    for (const m of candidates) {
      const macro = this.macros[m]!;
      if (!(macro.when?.(env, this.snaps[i]!) ?? true)) continue;
      let res: Application<S, Env>[] | null = null;
      if (macro.effect.length === 0) res = this.applySetup(i, env, macro, acc, setups);
      else if (matches(macro.effect[0]!, this.events[i]!))
        res = this.consume(i, env, { m, pos: 0, start: i, env }, acc);
      if (res) return res;
    }
    return null;
  }

  /** A set-up macro (no events) before events[i], unless its environment was already produced here. */
  private applySetup(
    i: number,
    env: Env,
    macro: Macro<S, Env>,
    acc: Application<S, Env>[],
    setups: Set<string>,
  ): Application<S, Env>[] | null {
    const nextEnv = envAfter(macro, env);
    const k = canonicalize(nextEnv);
    if (setups.has(k)) return null;
    const app = { macro, start: i, end: i, env };
    return this.search(i, nextEnv, null, [...acc, app], new Set([...setups, canonicalize(env), k]));
  }

  /** events[i] is the next event of the open macro: complete the macro with it, or carry on inside it. */
  private consume(i: number, env: Env, open: OpenMacro<Env>, acc: Application<S, Env>[]): Application<S, Env>[] | null {
    const macro = this.macros[open.m]!;
    if (open.pos + 1 < macro.effect.length)
      return this.search(i + 1, env, { ...open, pos: open.pos + 1 }, acc, new Set());
    const app = { macro, start: open.start, end: i + 1, env: open.env };
    return this.search(i + 1, envAfter(macro, open.env), null, [...acc, app], new Set());
  }
}
