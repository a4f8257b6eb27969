/**
 * A small parser for uapi C headers (object-like #defines, enums, structs with
 * their fields) — enough for include/uapi/linux/kfd_ioctl.h. Values, sizes and
 * offsets are NOT computed here: the probe (kfd-probe.ts) asks gcc for them.
 */

export interface HeaderDefine {
  name: string;
  body: string;
}

export interface HeaderEnum {
  tag: string | null;
  names: string[];
}

export interface HeaderField {
  name: string;
  /** C type as written, e.g. `__u32` or `struct kfd_ioctl_svm_attribute`. */
  ctype: string;
  /** Array dimension text (`''` for a flexible array member), or undefined if not an array. */
  dim?: string;
  /** Member of an anonymous union. */
  inUnion: boolean;
}

export interface HeaderStruct {
  name: string;
  fields: HeaderField[];
}

export interface ParsedHeader {
  defines: HeaderDefine[];
  enums: HeaderEnum[];
  structs: HeaderStruct[];
}

/** Joins backslash continuations and removes comments, keeping line structure. */
export function cleanSource(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\\\r?\n/g, ' ');
}

function parseDefines(clean: string): HeaderDefine[] {
  const out: HeaderDefine[] = [];
  for (const line of clean.split('\n')) {
    const m = /^\s*#\s*define\s+([A-Za-z_]\w*)(.*)$/.exec(line);
    if (!m) continue;
    const [, name, rest] = m as unknown as [string, string, string];
    if (rest.startsWith('(')) continue; // function-like macro
    const body = rest.trim();
    if (body === '') continue; // include guard / flag macro without a value
    out.push({ name, body });
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

function parseEnums(src: string): HeaderEnum[] {
  const out: HeaderEnum[] = [];
  for (const m of src.matchAll(/\benum\s+(\w+)?\s*\{([^}]*)\}/g)) {
    const names = (m[2] ?? '')
      .split(',')
      .map((item) => /^\s*(\w+)/.exec(item)?.[1])
      .filter((n): n is string => n !== undefined);
    out.push({ tag: m[1] ?? null, names });
  }
  return out;
}

/** Splits a struct body into top-level declarations (`;`-separated, braces respected). */
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
  return out.filter((d) => d !== '');
}

function parseMembers(body: string, inUnion: boolean): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const decl of declarations(body)) {
    const nested = /^(struct|union)\s*(\w+)?\s*\{/.exec(decl);
    if (nested) {
      const open = decl.indexOf('{');
      const close = matchBrace(decl, open);
      const inner = parseMembers(decl.slice(open + 1, close), nested[1] === 'union');
      const declarator = decl.slice(close + 1).trim();
      if (declarator === '') fields.push(...inner.map((f) => ({ ...f, inUnion: f.inUnion || inUnion })));
      else fields.push({ name: declarator, ctype: `(anonymous ${nested[1]})`, inUnion });
      continue;
    }
    const [first, ...more] = decl.split(',');
    const m = /^(.*?)\s*\b(\w+)\s*(?:\[([^\]]*)\])?\s*$/.exec(first ?? '');
    if (!m) throw new Error(`cannot parse declaration '${decl}'`);
    const ctype = (m[1] ?? '').replace(/\s+/g, ' ').trim();
    const push = (name: string, dim: string | undefined): void => {
      const f: HeaderField = { name, ctype, inUnion };
      if (dim !== undefined) f.dim = dim.trim();
      fields.push(f);
    };
    push(m[2]!, m[3]);
    for (const part of more) {
      const d = /^\s*(\w+)\s*(?:\[([^\]]*)\])?\s*$/.exec(part);
      if (!d) throw new Error(`cannot parse declarator '${part}' in '${decl}'`);
      push(d[1]!, d[2]);
    }
  }
  return fields;
}

function parseStructs(src: string): HeaderStruct[] {
  const out: HeaderStruct[] = [];
  for (const m of src.matchAll(/\bstruct\s+(\w+)\s*\{/g)) {
    const open = (m.index ?? 0) + m[0].length - 1;
    const close = matchBrace(src, open);
    out.push({ name: m[1]!, fields: parseMembers(src.slice(open + 1, close), false) });
  }
  return out;
}

/** Parses the #defines, enums and structs of a uapi header. */
export function parseCHeader(text: string): ParsedHeader {
  const clean = cleanSource(text);
  const code = clean
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
  return { defines: parseDefines(clean), enums: parseEnums(code), structs: parseStructs(code) };
}
