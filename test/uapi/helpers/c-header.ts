/**
 * The parser of the uapi C headers both header tests read: kfd_ioctl.h
 * (kfd-header.test.ts, through c-probe.ts) and drm.h, drm_mode.h, amdgpu_drm.h
 * (drm-header.test.ts, through drm-probe.ts). It reads object-like #defines,
 * enums and top-level structs/unions with their members flattened (nested named
 * and anonymous structs/unions, arrays of anonymous structs, multi-dimensional
 * arrays, pointers, inline enums, typedef'd scalars), keeping only the active
 * branches of `#if`/`#ifdef` (`__cplusplus` undefined, `__linux__` defined).
 * Values, sizes and offsets are NOT computed here: the probes ask gcc for them.
 */

/** An object-like `#define` with a value. */
export interface HeaderDefine {
  name: string;
  body: string;
  /** `string` for a string literal (`DRM_NAME "drm"`), else `number`. */
  kind: 'number' | 'string';
}

/** One enum and its enumerators (tag '' for an anonymous enum). */
export interface HeaderEnum {
  tag: string;
  names: string[];
}

/** One member of an aggregate, flattened: `in.bo_size`, `data[0].value` … */
export interface HeaderMember {
  /** Member designator usable in `offsetof` (dots for named nested aggregates, `[0]` for arrays of them). */
  path: string;
  /** Normalised C type: `__u32`, `unsigned long`, `pointer`, `enum`, `struct drm_event`, `(anonymous struct)` … */
  ctype: string;
  /** Array dimensions as written (`''` for a flexible array member). */
  dims: string[];
  /** Member (directly or through anonymous aggregates) of a union. */
  inUnion: boolean;
}

/** A top-level `struct X { … }` or `union X { … }`. */
export interface HeaderAggregate {
  name: string;
  kind: 'struct' | 'union';
  members: HeaderMember[];
}

/** Everything of a header the probe compares. */
export interface ParsedHeader {
  defines: HeaderDefine[];
  enums: HeaderEnum[];
  aggregates: HeaderAggregate[];
}

/** Joins backslash continuations and removes comments, keeping line structure. */
function cleanSource(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\\\r?\n/g, ' ');
}

/** Macros that are defined before any uapi header is read (the compiler's, for Linux). */
const PREDEFINED = ['__linux__', '__linux', 'linux', '__GNUC__', '__x86_64__'];

/** Evaluates a `#if` condition made of `defined(X)`, `!`, `&&`, `||`, parentheses and integers. */
function evalCondition(expr: string, defined: ReadonlySet<string>): boolean {
  const js = expr
    .replace(/\bdefined\s*\(\s*(\w+)\s*\)/g, (_, n: string) => (defined.has(n) ? '1' : '0'))
    .replace(/\bdefined\s+(\w+)/g, (_, n: string) => (defined.has(n) ? '1' : '0'))
    .replace(/\b[A-Za-z_]\w*\b/g, '0')
    .trim();
  if (!/^[\d\s()!&|]*$/.test(js)) throw new Error(`cannot evaluate #if ${expr}`);
  // Tiny recursive-descent evaluator (no eval): or := and ('||' and)*; and := not ('&&' not)*.
  let i = 0;
  const peek = (s: string): boolean => js.startsWith(s, i);
  const skip = (): void => {
    while (js[i] === ' ' || js[i] === '\t') i++;
  };
  const atom = (): number => {
    skip();
    if (peek('!')) {
      i++;
      return atom() ? 0 : 1;
    }
    if (peek('(')) {
      i++;
      const v = or();
      skip();
      if (!peek(')')) throw new Error(`unbalanced #if ${expr}`);
      i++;
      return v;
    }
    const m = /^\d+/.exec(js.slice(i));
    if (!m) throw new Error(`cannot evaluate #if ${expr}`);
    i += m[0].length;
    return Number(m[0]);
  };
  const and = (): number => {
    let v = atom();
    for (skip(); peek('&&'); skip()) {
      i += 2;
      v = atom() && v ? 1 : 0;
    }
    return v;
  };
  const or = (): number => {
    let v = and();
    for (skip(); peek('||'); skip()) {
      i += 2;
      v = and() || v ? 1 : 0;
    }
    return v;
  };
  const v = or();
  skip();
  if (i !== js.length) throw new Error(`cannot evaluate #if ${expr}`);
  return v !== 0;
}

/**
 * Blanks the lines of inactive `#if`/`#ifdef`/`#else` branches, as the C
 * preprocessor would for a Linux C compilation (`__cplusplus` undefined,
 * `__linux__` defined). Directives are blanked too except active `#define`s.
 */
function activeLines(clean: string): string[] {
  const defined = new Set(PREDEFINED);
  const stack: { active: boolean; taken: boolean; parent: boolean }[] = [];
  const active = (): boolean => stack.every((f) => f.active);
  const out: string[] = [];
  for (const line of clean.split('\n')) {
    const d = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
    if (!d) {
      out.push(active() ? line : '');
      continue;
    }
    const [, directive, rest] = d as unknown as [string, string, string];
    const parent = active();
    if (directive === 'ifdef' || directive === 'ifndef' || directive === 'if') {
      const name = rest.trim().split(/\s/)[0] ?? '';
      const cond = directive === 'if' ? evalCondition(rest, defined) : defined.has(name) === (directive === 'ifdef');
      stack.push({ active: cond, taken: cond, parent });
    } else if (directive === 'elif') {
      const top = stack.at(-1);
      if (!top) throw new Error('#elif without #if');
      const cond = !top.taken && evalCondition(rest, defined);
      top.active = cond;
      top.taken ||= cond;
    } else if (directive === 'else') {
      const top = stack.at(-1);
      if (!top) throw new Error('#else without #if');
      top.active = !top.taken;
      top.taken = true;
    } else if (directive === 'endif') {
      if (!stack.pop()) throw new Error('#endif without #if');
    } else if (directive === 'define' && parent) {
      defined.add(/^(\w+)/.exec(rest)?.[1] ?? '');
      out.push(line);
      continue;
    } else if (directive === 'undef' && parent) {
      defined.delete(rest.trim());
    }
    out.push('');
  }
  if (stack.length !== 0) throw new Error('unterminated #if');
  return out;
}

function parseDefines(lines: readonly string[]): HeaderDefine[] {
  const out: HeaderDefine[] = [];
  for (const line of lines) {
    const m = /^\s*#\s*define\s+([A-Za-z_]\w*)(.*)$/.exec(line);
    if (!m) continue;
    const [, name, rest] = m as unknown as [string, string, string];
    if (rest.startsWith('(')) continue; // function-like macro
    const body = rest.trim();
    if (body === '') continue; // include guard
    out.push({ name, body, kind: body.startsWith('"') ? 'string' : 'number' });
  }
  return out;
}

/** Index of the `}` matching the `{` at `open`. */
function matchBrace(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unbalanced braces at ${open}`);
}

function parseEnums(code: string): HeaderEnum[] {
  const out: HeaderEnum[] = [];
  for (const m of code.matchAll(/\benum\s+(\w+)?\s*\{([^}]*)\}/g)) {
    const names = (m[2] ?? '')
      .split(',')
      .map((item) => /^\s*(\w+)/.exec(item)?.[1])
      .filter((n): n is string => n !== undefined);
    out.push({ tag: m[1] ?? '', names });
  }
  return out;
}

/** Splits an aggregate body into top-level declarations (`;`-separated, braces respected). */
function declarations(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ';' && depth === 0) {
      out.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (body.slice(start).trim() !== '') throw new Error(`declaration without ';': ${body.slice(start).trim()}`);
  return out.filter((d) => d !== '');
}

const TYPEDEF_SCALARS: Record<string, string> = {
  drm_handle_t: 'unsigned int',
  drm_context_t: 'unsigned int',
  drm_drawable_t: 'unsigned int',
  drm_magic_t: 'unsigned int',
};

/** `__volatile__ unsigned int` → `unsigned int`; typedef'd scalars to their Linux definition. */
function normaliseType(t: string): string {
  const s = t
    .replace(/\b(__volatile__|volatile|const|__const)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return TYPEDEF_SCALARS[s] ?? s;
}

/** Parses one declarator (`*name`, `name[4][4]`, `name[]`) into name, pointer-ness and dimensions. */
function declarator(text: string): { name: string; pointer: boolean; dims: string[] } {
  const m = /^\s*(\**)\s*(\w+)\s*((?:\[[^\]]*\]\s*)*)$/.exec(text);
  if (!m) throw new Error(`cannot parse declarator '${text}'`);
  const dims = [...(m[3] ?? '').matchAll(/\[([^\]]*)\]/g)].map((d) => (d[1] ?? '').trim());
  return { name: m[2]!, pointer: (m[1] ?? '') !== '', dims };
}

function parseMembers(body: string, prefix: string, inUnion: boolean): HeaderMember[] {
  const members: HeaderMember[] = [];
  for (const decl of declarations(body)) {
    const nested = /^(struct|union|enum)\s*(\w+)?\s*\{/.exec(decl);
    if (nested) {
      const open = decl.indexOf('{');
      const close = matchBrace(decl, open);
      const kind = nested[1] as 'struct' | 'union' | 'enum';
      const rest = decl.slice(close + 1).trim();
      if (kind === 'enum') {
        const d = declarator(rest);
        members.push({ path: prefix + d.name, ctype: 'enum', dims: d.dims, inUnion });
        continue;
      }
      const inner = decl.slice(open + 1, close);
      if (rest === '') {
        // C11 anonymous member: its members belong to the enclosing aggregate.
        members.push(...parseMembers(inner, prefix, inUnion || kind === 'union'));
        continue;
      }
      const d = declarator(rest);
      const path = prefix + d.name;
      members.push({ path, ctype: `(anonymous ${kind})`, dims: d.dims, inUnion });
      const sub = `${path}${d.dims.map(() => '[0]').join('')}.`;
      members.push(...parseMembers(inner, sub, kind === 'union'));
      continue;
    }
    // `type a, *b, c[4]`: the type is what precedes the first declarator.
    const [first, ...more] = decl.replace(/\s+/g, ' ').split(',');
    const m = /^(.*?[\s*])(\**\s*\w+\s*(?:\[[^\]]*\]\s*)*)$/.exec((first ?? '').trim());
    if (!m) throw new Error(`cannot parse declaration '${decl}'`);
    const base = normaliseType(m[1]!.replace(/\*/g, ' '));
    const starsInType = (m[1] ?? '').includes('*');
    for (const text of [m[2]!, ...more]) {
      const d = declarator(text);
      const ctype = starsInType || d.pointer ? 'pointer' : /^enum\s+\w+$/.test(base) ? 'enum' : base;
      members.push({ path: prefix + d.name, ctype, dims: d.dims, inUnion });
    }
  }
  return members;
}

function parseAggregates(code: string): HeaderAggregate[] {
  const out: HeaderAggregate[] = [];
  let end = -1;
  for (const m of code.matchAll(/\b(struct|union)\s+(\w+)\s*\{/g)) {
    const open = (m.index ?? 0) + m[0].length - 1;
    if (open < end) continue; // a tagged aggregate defined inside another one
    const close = matchBrace(code, open);
    end = close;
    out.push({
      name: m[2]!,
      kind: m[1] as 'struct' | 'union',
      members: parseMembers(code.slice(open + 1, close), '', m[1] === 'union'),
    });
  }
  return out;
}

/** Parses the active #defines, enums and top-level structs/unions of a uapi header. */
export function parseCHeader(text: string): ParsedHeader {
  const lines = activeLines(cleanSource(text));
  const code = lines.filter((l) => !/^\s*#/.test(l)).join('\n');
  return { defines: parseDefines(lines), enums: parseEnums(code), aggregates: parseAggregates(code) };
}
