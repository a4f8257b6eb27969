/**
 * Transition labels of the mermaid diagrams: `EVENT [guard] / action, action`, with
 * guards and actions named in the definition's words (setup() names, XState's
 * combinators as `!a`, `a && b`, `a || b`, built-in actions without their `xstate.`).
 */
import type { TransitionLike } from './mermaid-states.js';

export interface MermaidOptions {
  /** Write `/ action, …` after the event and guard (default true). */
  actions?: boolean;
  /**
   * One edge per (from, to) pair with the labels joined by `<br/>` (default true):
   * mermaid keeps only one of several edges between the same two states.
   */
  merge?: boolean;
}

/** The pseudo-guard of an unguarded fallback transition. */
export const ELSE = Symbol('else');

/** A guard's name in the definition's words (`!a`, `a && b`, `a || b` for XState's combinators). */
export function guardName(guard: unknown): string {
  if (guard === ELSE) return 'else';
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const g = guard as { name?: string; guards?: unknown[]; type?: unknown };
    if (Array.isArray(g.guards)) {
      const parts = g.guards.map(guardName);
      if (g.name === 'not') return `!${parts[0] ?? '?'}`;
      if (g.name === 'and') return parts.map((p) => (p.includes(' ') ? `(${p})` : p)).join(' && ');
      if (g.name === 'or') return parts.map((p) => (p.includes(' ') ? `(${p})` : p)).join(' || ');
    }
    if (typeof g.type === 'string') return g.type;
    return g.name || 'inline';
  }
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    const t = (guard as { type: unknown }).type;
    if (typeof t === 'string') return t;
  }
  return 'inline';
}

/** An action's name: its setup() name, its `type`, or `assign`, `raise`… for built-ins. */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function' || (typeof action === 'object' && action !== null)) {
    const a = action as { type?: unknown; name?: unknown };
    if (typeof a.type === 'string') return a.type.replace(/^xstate\./, '');
    if (typeof a.name === 'string' && a.name) return a.name;
  }
  return 'inline';
}

/** `EVENT [guard] / a, b`: the label of one transition. */
export function transitionLabel(t: TransitionLike, opts: MermaidOptions = {}): string {
  let label = t.eventType === '' ? '(always)' : t.eventType;
  if (t.guard !== undefined) label += ` [${guardName(t.guard)}]`;
  if (opts.actions !== false && t.actions.length > 0) label += ` / ${t.actions.map(actionName).join(', ')}`;
  // A newline would end mermaid's label (and the statement) early.
  return label.replace(/[\r\n]+/g, ' ');
}
