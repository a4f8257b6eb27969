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
 */
import type { AnyStateMachine } from 'xstate';

/** The parts of an XState v5 StateNode this module reads (kept structural for testability). */
interface NodeLike {
  key: string;
  id: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  path: string[];
  states: Record<string, NodeLike>;
  parent?: NodeLike;
  initial?: { target: readonly NodeLike[] };
  transitions: Map<string, readonly TransitionLike[]>;
  always?: readonly TransitionLike[];
}

interface TransitionLike {
  target: readonly NodeLike[] | undefined;
  source: NodeLike;
  actions: readonly unknown[];
  guard?: unknown;
  eventType: string;
}

export interface MermaidOptions {
  /** Write `/ action, …` after the event and guard (default true). */
  actions?: boolean;
  /**
   * One edge per (from, to) pair with the labels joined by `<br/>` (default true):
   * mermaid keeps only one of several edges between the same two states.
   */
  merge?: boolean;
}

/** Words mermaid's state grammar reads as keywords: never used as bare ids. */
const RESERVED = new Set([
  'state',
  'note',
  'direction',
  'end',
  'class',
  'classDef',
  'style',
  'click',
  'as',
  'hide',
  'scale',
  'TB',
  'BT',
  'LR',
  'RL',
]);

const INDENT = '  ';

/** The pseudo-guard of an unguarded fallback transition. */
const ELSE = Symbol('else');

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

/** Every state node below the root, in document order (depth first, definition order). */
function descendants(node: NodeLike): NodeLike[] {
  const out: NodeLike[] = [];
  for (const child of Object.values(node.states)) {
    out.push(child, ...descendants(child));
  }
  return out;
}

/** Mermaid ids for every node: the key where unique and safe, else the sanitised path. */
function assignIds(root: NodeLike): Map<NodeLike, string> {
  const nodes = descendants(root);
  const keyCount = new Map<string, number>();
  for (const n of nodes) keyCount.set(n.key, (keyCount.get(n.key) ?? 0) + 1);
  const ids = new Map<NodeLike, string>();
  const taken = new Set<string>();
  const safe = (s: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !RESERVED.has(s);
  // First pass: keys that are unique and safe keep their name, so path ids cannot steal them.
  for (const n of nodes) {
    if (keyCount.get(n.key) === 1 && safe(n.key)) {
      ids.set(n, n.key);
      taken.add(n.key);
    }
  }
  for (const n of nodes) {
    if (ids.has(n)) continue;
    let base = n.path.map((p) => p.replace(/[^A-Za-z0-9_]/g, '_')).join('_');
    if (!/^[A-Za-z_]/.test(base) || RESERVED.has(base)) base = `s_${base}`;
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
    ids.set(n, id);
    taken.add(id);
  }
  return ids;
}

/** The innermost node that is an ancestor of (or equal to) every given node. */
function commonAncestor(nodes: readonly NodeLike[]): NodeLike {
  const chains = nodes.map((n) => {
    const chain: NodeLike[] = [];
    for (let c: NodeLike | undefined = n; c; c = c.parent) chain.unshift(c);
    return chain;
  });
  let lca = chains[0]![0]!;
  for (let i = 0; ; i++) {
    const c = chains[0]![i];
    if (!c || !chains.every((ch) => ch[i] === c)) break;
    lca = c;
  }
  return lca;
}

interface Edge {
  from: NodeLike;
  to: NodeLike;
  label: string;
}

/** Where an edge is written: a state's block, or TOP (the diagram's own level). */
const TOP = Symbol('top');
type Block = NodeLike | typeof TOP;

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

function collectEdges(root: NodeLike, opts: MermaidOptions): Edge[] {
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
  // Mermaid draws one edge per (from, to) pair: the labels of parallel edges are
  // joined with <br/> into one, at the position of the first.
  const byBlock = new Map<Block, Edge[]>();
  for (const e of edges) {
    const b = edgeBlock(e);
    const list = byBlock.get(b) ?? [];
    const same = opts.merge === false ? undefined : list.find((x) => x.from === e.from && x.to === e.to);
    if (same) same.label += `<br/>${e.label}`;
    else list.push({ ...e });
    byBlock.set(b, list);
  }
  const mentioned = new Set<NodeLike>();
  for (const e of edges) {
    mentioned.add(e.from);
    mentioned.add(e.to);
  }
  for (const n of descendants(root)) {
    if (n.type === 'final') mentioned.add(n);
    if (n.parent && n.parent.type !== 'parallel' && n.parent.initial?.target.includes(n)) mentioned.add(n);
  }

  const lines: string[] = ['stateDiagram-v2'];
  const id = (n: NodeLike) => ids.get(n)!;
  const edgeLines = (b: Block, pad: string) => {
    for (const e of byBlock.get(b) ?? []) lines.push(`${pad}${id(e.from)} --> ${id(e.to)} : ${e.label}`);
  };

  /** Body of a compound, parallel or root block: initial, children, edges, finals. */
  const body = (n: NodeLike, depth: number) => {
    const pad = INDENT.repeat(depth);
    const children = Object.values(n.states);
    // Labels first, so that every later line names an id mermaid already knows.
    for (const c of children) if (id(c) !== c.key) lines.push(`${pad}state "${c.key.replace(/"/g, "'")}" as ${id(c)}`);
    if (n.type === 'parallel') {
      children.forEach((r, i) => {
        if (i > 0) lines.push(`${pad}--`);
        declare(r, depth);
      });
    } else {
      for (const t of n.initial?.target ?? []) lines.push(`${pad}[*] --> ${id(t)}`);
      for (const c of children) declare(c, depth);
    }
    edgeLines(n, pad);
    if (n.type !== 'parallel') for (const c of children) if (c.type === 'final') lines.push(`${pad}${id(c)} --> [*]`);
  };

  /** Declare a node: a block where it has children, a bare id where nothing else names it. */
  const declare = (n: NodeLike, depth: number) => {
    const pad = INDENT.repeat(depth);
    if (Object.keys(n.states).length > 0) {
      lines.push(`${pad}state ${id(n)} {`);
      body(n, depth + 1);
      lines.push(`${pad}}`);
    } else if (id(n) === n.key && !mentioned.has(n)) {
      // An atomic state that no edge names would otherwise not be drawn.
      lines.push(`${pad}${id(n)}`);
    }
  };

  if (rootBoxed) {
    lines.push(`${INDENT}[*] --> ${id(root)}`);
    lines.push(`${INDENT}state ${id(root)} {`);
    body(root, 2);
    lines.push(`${INDENT}}`);
    edgeLines(TOP, INDENT);
  } else {
    body(root, 1);
    edgeLines(TOP, INDENT);
  }
  return `${lines.join('\n')}\n`;
}

function uniqueRootId(root: NodeLike, ids: Map<NodeLike, string>): string {
  const taken = new Set(ids.values());
  let base = root.id.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(base) || RESERVED.has(base)) base = `s_${base}`;
  let id = base;
  for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
  return id;
}

/* ------------------------------------------------------------------------------------------ */
/* Marked blocks in hand-written pages                                                         */
/* ------------------------------------------------------------------------------------------ */

/** `<!-- NAME:begin -->` / `<!-- NAME:end -->` */
export function markers(name: string): { begin: string; end: string } {
  return { begin: `<!-- ${name}:begin -->`, end: `<!-- ${name}:end -->` };
}

export class MarkerError extends Error {}

/**
 * The text between the begin and end markers (exclusive of the marker lines, with
 * the newline after the begin marker dropped). Throws MarkerError if the markers are
 * missing, repeated or out of order.
 */
export function extractBlock(text: string, name: string): string {
  const { start, stop } = locate(text, name);
  return text.slice(start, stop);
}

/** `text` with the block between the markers replaced by `content` (which ends with a newline). */
export function replaceBlock(text: string, name: string, content: string): string {
  const { start, stop } = locate(text, name);
  const body = content.endsWith('\n') || content === '' ? content : `${content}\n`;
  return text.slice(0, start) + body + text.slice(stop);
}

function locate(text: string, name: string): { start: number; stop: number } {
  const { begin, end } = markers(name);
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b < 0 || e < 0) throw new MarkerError(`no ${begin} … ${end} markers`);
  if (text.indexOf(begin, b + 1) >= 0 || text.indexOf(end, e + 1) >= 0)
    throw new MarkerError(`the ${name} markers appear more than once`);
  if (e < b) throw new MarkerError(`${end} comes before ${begin}`);
  let start = b + begin.length;
  if (text[start] === '\r') start++;
  if (text[start] === '\n') start++;
  return { start, stop: Math.max(start, e) };
}

/* ------------------------------------------------------------------------------------------ */
/* The diagram block of docs/machines/kfd-*.md                                                 */
/* ------------------------------------------------------------------------------------------ */

/** Marker name of the generated diagram section. */
export const DIAGRAM_MARKER = 'diagram';

/** `kfd.svm_range` → `kfd-svm-range.md` */
export function diagramFileName(kind: string): string {
  return `${kind.replace(/[._]/g, '-')}.md`;
}

/** The content written between the diagram markers: a notice and a fenced mermaid block. */
export function diagramBlock(kind: string, machine: AnyStateMachine): string {
  return [
    `<!-- generated from the ${kind} machine (id ${machine.id}) by \`npm run diagrams\`; ` + 'do not edit by hand -->',
    '```mermaid',
    toMermaid(machine).trimEnd(),
    '```',
    '',
  ].join('\n');
}

/** The mermaid text inside a diagram block (between the ```mermaid fence lines). */
export function mermaidOfBlock(block: string): string | undefined {
  const m = /```mermaid\r?\n([\s\S]*?)```/.exec(block);
  return m ? m[1] : undefined;
}

/** A new page for a machine that has none yet: a title, a pointer to write the prose, the block. */
export function newDiagramPage(kind: string, machine: AnyStateMachine): string {
  const { begin, end } = markers(DIAGRAM_MARKER);
  return [
    `# ${kind} (${machine.id})`,
    '',
    'TODO: describe the kernel object, its states, events and guards.',
    '',
    '## Diagram',
    '',
    begin,
    diagramBlock(kind, machine).trimEnd(),
    end,
    '',
  ].join('\n');
}
