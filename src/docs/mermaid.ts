/**
 * Mermaid `stateDiagram-v2` text generated from an XState machine definition
 * (docs/machines/kfd-*.md carry it between `<!-- diagram:begin -->` and
 * `<!-- diagram:end -->`; `npm run diagrams` rewrites that block and nothing else).
 *
 * Rendering rules (the output is a pure function of the definition, in definition order):
 *  - a compound state is a nested `state X { ... }` block starting with `[*] --> initial`;
 *  - a parallel state is a block whose regions are nested blocks separated by `--`;
 *  - a final state `x` gets `x --> [*]` in its parent's block;
 *  - every transition is one edge per target, labelled `EVENT [guard] / action, action`
 *    (the guard and the actions only when present, actions only with `actions: true`,
 *    the default); an unguarded transition after guarded ones for the same event is
 *    labelled `[else]`; a targetless transition is a self-loop on the state that defines it;
 *  - edges between the same two states are joined into one, labels separated by `<br/>`
 *    (mermaid draws only one of them otherwise);
 *  - an edge is written in the block of the innermost state containing both of its ends,
 *    so that mermaid never creates a second node with the same id;
 *  - a state key used twice in one machine (or that mermaid reserves) is drawn
 *    under a path id (`alive_vm_idle`) with its key as the label.
 *
 * Labels are mermaid-labels.ts, edges mermaid-edges.ts, state ids mermaid-states.ts;
 * this module writes the blocks.
 */
import type { AnyStateMachine } from 'xstate';
import { collectEdges, edgesByBlock, TOP, type Block, type Edge } from './mermaid-edges.js';
import type { MermaidOptions } from './mermaid-labels.js';
import { assignIds, descendants, uniqueRootId, type NodeLike } from './mermaid-states.js';

const INDENT = '  ';

/**
 * Mermaid `stateDiagram-v2` text of a machine (ends with a newline). The root is
 * drawn as a box of its own only when it has to be: a parallel root, or a root that
 * is an end of some transition.
 */
export function toMermaid(machine: AnyStateMachine, opts: MermaidOptions = {}): string {
  const root = machine.root as unknown as NodeLike;
  const ids = assignIds(root);
  const edges = collectEdges(root, opts);
  const rootBoxed = root.type === 'parallel' || edges.some((e) => e.from === root || e.to === root);
  if (rootBoxed) ids.set(root, uniqueRootId(root, ids));
  const writer = new BlockWriter(ids, edgesByBlock(edges, opts), mentionedStates(root, edges));
  return writer.diagram(root, rootBoxed);
}

/** States some line names anyway (an edge, a final's `--> [*]`, an initial's `[*] -->`). */
function mentionedStates(root: NodeLike, edges: readonly Edge[]): Set<NodeLike> {
  const mentioned = new Set<NodeLike>();
  for (const e of edges) {
    mentioned.add(e.from);
    mentioned.add(e.to);
  }
  for (const n of descendants(root)) {
    if (n.type === 'final') mentioned.add(n);
    if (n.parent && n.parent.type !== 'parallel' && n.parent.initial?.target.includes(n)) mentioned.add(n);
  }
  return mentioned;
}

/** Writes the nested blocks of the diagram, given every id and the edges of every block. */
class BlockWriter {
  private readonly lines: string[] = ['stateDiagram-v2'];

  constructor(
    private readonly ids: ReadonlyMap<NodeLike, string>,
    private readonly byBlock: ReadonlyMap<Block, readonly Edge[]>,
    private readonly mentioned: ReadonlySet<NodeLike>,
  ) {}

  /** The whole diagram: the root's body, boxed or not, then the edges of the top level. */
  diagram(root: NodeLike, rootBoxed: boolean): string {
    if (rootBoxed) {
      this.lines.push(`${INDENT}[*] --> ${this.id(root)}`);
      this.lines.push(`${INDENT}state ${this.id(root)} {`);
      this.body(root, 2);
      this.lines.push(`${INDENT}}`);
    } else {
      this.body(root, 1);
    }
    this.edgeLines(TOP, INDENT);
    return `${this.lines.join('\n')}\n`;
  }

  private id(n: NodeLike): string {
    return this.ids.get(n)!;
  }

  private edgeLines(b: Block, pad: string): void {
    for (const e of this.byBlock.get(b) ?? [])
      this.lines.push(`${pad}${this.id(e.from)} --> ${this.id(e.to)} : ${e.label}`);
  }

  /** Body of a compound, parallel or root block: initial, children, edges, finals. */
  private body(n: NodeLike, depth: number): void {
    const pad = INDENT.repeat(depth);
    const children = Object.values(n.states);
    // Labels first, so that every later line names an id mermaid already knows.
    for (const c of children)
      if (this.id(c) !== c.key) this.lines.push(`${pad}state "${c.key.replace(/"/g, "'")}" as ${this.id(c)}`);
    if (n.type === 'parallel') {
      children.forEach((r, i) => {
        if (i > 0) this.lines.push(`${pad}--`);
        this.declare(r, depth);
      });
    } else {
      for (const t of n.initial?.target ?? []) this.lines.push(`${pad}[*] --> ${this.id(t)}`);
      for (const c of children) this.declare(c, depth);
    }
    this.edgeLines(n, pad);
    if (n.type !== 'parallel')
      for (const c of children) if (c.type === 'final') this.lines.push(`${pad}${this.id(c)} --> [*]`);
  }

  /** Declare a node: a block where it has children, a bare id where nothing else names it. */
  private declare(n: NodeLike, depth: number): void {
    const pad = INDENT.repeat(depth);
    if (Object.keys(n.states).length > 0) {
      this.lines.push(`${pad}state ${this.id(n)} {`);
      this.body(n, depth + 1);
      this.lines.push(`${pad}}`);
    } else if (this.id(n) === n.key && !this.mentioned.has(n)) {
      // An atomic state that no edge names would otherwise not be drawn.
      this.lines.push(`${pad}${this.id(n)}`);
    }
  }
}
