/**
 * The state tree of a machine as the mermaid renderer (mermaid.ts) sees it: the parts of
 * XState v5's StateNode it reads, document order, common ancestors, and the mermaid id
 * of every state (its key where unique and safe, else a path id such as `alive_vm_idle`).
 */

/** The parts of an XState v5 StateNode this module reads (kept structural for testability). */
export interface NodeLike {
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

export interface TransitionLike {
  target: readonly NodeLike[] | undefined;
  source: NodeLike;
  actions: readonly unknown[];
  guard?: unknown;
  eventType: string;
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

/** Every state node below the root, in document order (depth first, definition order). */
export function descendants(node: NodeLike): NodeLike[] {
  const out: NodeLike[] = [];
  for (const child of Object.values(node.states)) {
    out.push(child, ...descendants(child));
  }
  return out;
}

/** Mermaid ids for every node: the key where unique and safe, else the sanitised path. */
export function assignIds(root: NodeLike): Map<NodeLike, string> {
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
    const id = freeId(n.path.map((p) => p.replace(/[^A-Za-z0-9_]/g, '_')).join('_'), taken);
    ids.set(n, id);
    taken.add(id);
  }
  return ids;
}

/** The id of a root drawn as a box of its own: its machine id, made safe and unique. */
export function uniqueRootId(root: NodeLike, ids: Map<NodeLike, string>): string {
  return freeId(root.id.replace(/[^A-Za-z0-9_]/g, '_'), new Set(ids.values()));
}

/** `base` (prefixed `s_` where mermaid would not read it as an id), suffixed `_2`, `_3`… until free. */
function freeId(base: string, taken: ReadonlySet<string>): string {
  if (!/^[A-Za-z_]/.test(base) || RESERVED.has(base)) base = `s_${base}`;
  let id = base;
  for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
  return id;
}

/** The innermost node that is an ancestor of (or equal to) every given node. */
export function commonAncestor(nodes: readonly NodeLike[]): NodeLike {
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
