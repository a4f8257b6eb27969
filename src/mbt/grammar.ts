/**
 * The grammar of an adapter: which machine-event sequences its macros produce, followed
 * event by event during the traversal of the test model (src/mbt/plan-paths.ts).
 *
 * A *grammar state* is a set of configurations: which macro is under way and how far,
 * together with a small environment value (`env`) for what the subject's machine cannot
 * see (is the process paused, has the peer GPU a VM, was RESTORE issued …). An event is
 * admitted only where some configuration can produce it next.
 */
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { type Adapter, envAfter, type Macro, matches, type Sut } from './adapter.js';
import { type Application, parseApplications } from './parse-path.js';
import { canonicalize } from './serialize.js';

export interface Config<Env> {
  env: Env;
  /** Index of the macro under way, or -1 at a macro boundary. */
  m: number;
  /**
   * Position in the macro's effect; at a boundary, the index of the macro that just
   * completed (-1 at the start), so that each macro gets vertices of its own and the
   * shortest paths exercise every macro, not only the first of two that cause the same events.
   */
  pos: number;
}

/** The grammar of an adapter: which machine-event sequences its macros produce. */
export class Grammar<S extends Sut, Env> {
  constructor(private readonly adapter: Adapter<S, Env>) {}

  private get macros() {
    return this.adapter.macros;
  }

  private key(c: Config<Env>): string {
    return canonicalize({ env: c.env, m: c.m, pos: c.pos }, 'grammar');
  }

  normalize(cs: Config<Env>[]): Config<Env>[] {
    const byKey = new Map<string, Config<Env>>();
    for (const c of cs) byKey.set(this.key(c), c);
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  }

  initial(): Config<Env>[] {
    return [{ env: this.adapter.initialEnv, m: -1, pos: -1 }];
  }

  /** Boundary configurations plus those reachable by set-up macros (empty effect). */
  private closure(cs: Config<Env>[], snap: AnyMachineSnapshot): Config<Env>[] {
    const out = new Map<string, Config<Env>>();
    const todo = [...cs];
    while (todo.length) {
      const c = todo.pop()!;
      const k = this.key(c);
      if (out.has(k)) continue;
      out.set(k, c);
      if (c.m !== -1) continue;
      this.macros.forEach((m, i) => {
        if (m.effect.length === 0 && (m.when?.(c.env, snap) ?? true))
          todo.push({ env: envAfter(m, c.env), m: -1, pos: i });
      });
    }
    return [...out.values()];
  }

  advance(cs: Config<Env>[], snap: AnyMachineSnapshot, e: EventObject): Config<Env>[] {
    const out: Config<Env>[] = [];
    const step = (env: Env, m: number, pos: number) => {
      const macro = this.macros[m]!;
      if (pos + 1 === macro.effect.length) out.push({ env: envAfter(macro, env), m: -1, pos: m });
      else out.push({ env, m, pos: pos + 1 });
    };
    for (const c of this.closure(cs, snap)) {
      if (c.m === -1) {
        this.macros.forEach((macro, i) => {
          if (macro.effect.length > 0 && matches(macro.effect[0]!, e) && (macro.when?.(c.env, snap) ?? true))
            step(c.env, i, 0);
        });
      } else if (matches(this.macros[c.m]!.effect[c.pos]!, e)) step(c.env, c.m, c.pos);
    }
    return this.normalize(out);
  }

  /** Split a path into macro applications (set-up macros included), or null. */
  parse(events: EventObject[], snaps: AnyMachineSnapshot[], preferred?: Macro<S, Env>): Application<S, Env>[] | null {
    return parseApplications(this.adapter, events, snaps, preferred);
  }
}
