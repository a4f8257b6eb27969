/**
 * The edges of a mermaid state diagram: one per transition target (a targetless
 * transition is a self-loop), each placed in the block of the innermost state that
 * contains both of its ends, and edges between the same two states joined into one.
 */
import { ELSE, transitionLabel, type MermaidOptions } from './mermaid-labels.js';
import { commonAncestor, descendants, type NodeLike, type TransitionLike } from './mermaid-states.js';

export interface Edge {
  from: NodeLike;
  to: NodeLike;
  label: string;
}

/** Where an edge is written: a state's block, or TOP (the diagram's own level). */
export const TOP = Symbol('top');
export type Block = NodeLike | typeof TOP;

/**
 * The block an edge belongs to: the innermost drawn block containing both ends. When
 * one end contains the other (a self-loop on a composite state, an edge from a
 * composite to one of its children) that is the block where the outer end itself is
 * declared: its parent's, or TOP for the root.
 */
function edgeBlock(e: Edge): Block {
  const lca = commonAncestor([e.from, e.to]);
  if (lca === e.from || lca === e.to) return lca.parent ?? TOP;
  return lca;
}

/** Every edge of the machine, in definition order (state by state, events then `always`). */
export function collectEdges(root: NodeLike, opts: MermaidOptions): Edge[] {
  const edges: Edge[] = [];
  for (const n of [root, ...descendants(root)]) {
    const all: TransitionLike[] = [];
    for (const ts of n.transitions.values()) all.push(...ts);
    all.push(...(n.always ?? []));
    for (const [i, t] of all.entries()) {
      // An unguarded transition after guarded ones for the same event is their `else`.
      const otherwise =
        t.guard === undefined && all.slice(0, i).some((p) => p.eventType === t.eventType && p.guard !== undefined);
      const label = transitionLabel(otherwise ? { ...t, guard: ELSE } : t, opts);
      const targets = t.target && t.target.length > 0 ? t.target : [n];
      for (const to of targets) edges.push({ from: n, to, label });
    }
  }
  return edges;
}

/**
 * The edges of each block, in order. Mermaid draws one edge per (from, to) pair: the
 * labels of parallel edges are joined with <br/> into one, at the position of the first
 * (unless `merge: false`).
 */
export function edgesByBlock(edges: readonly Edge[], opts: MermaidOptions): Map<Block, Edge[]> {
  const byBlock = new Map<Block, Edge[]>();
  for (const e of edges) {
    const b = edgeBlock(e);
    const list = byBlock.get(b) ?? [];
    const same = opts.merge === false ? undefined : list.find((x) => x.from === e.from && x.to === e.to);
    if (same) same.label += `<br/>${e.label}`;
    else list.push({ ...e });
    byBlock.set(b, list);
  }
  return byBlock;
}
