/**
 * Asks gcc for the numbers of a uapi header: generates a C program that prints
 * every constant, `sizeof`/`_Alignof` of every struct and `offsetof`/`sizeof` of
 * every field, compiles it in a temporary directory and parses its output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HeaderAggregate, type ParsedHeader, parseCHeader } from './c-header.js';

export const INSTALL_HINT = 'apt-get install -y gcc linux-libc-dev';

export interface ProbedConstant {
  /** Value reduced modulo 2^(8·sizeof), i.e. the unsigned view of the C value. */
  value: bigint;
  /** The C expression is negative (e.g. `(1 << 31)` of type int). */
  negative: boolean;
  size: number;
}

export interface ProbedField {
  offset: number;
  /** `sizeof` the member; -1 for a flexible array member. */
  size: number;
}

export interface ProbedStruct {
  size: number;
  align: number;
  fields: Map<string, ProbedField>;
}

export interface HeaderProbe {
  path: string;
  parsed: ParsedHeader;
  /** Object-like #defines and enumerators, by name. */
  constants: Map<string, ProbedConstant>;
  structs: Map<string, ProbedStruct>;
  /** Extra expressions evaluated on request (name → unsigned value). */
  extras: Map<string, bigint>;
}

function requireTool(): void {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error(`gcc is not available; the uapi header test needs it: ${INSTALL_HINT}`);
  }
}

/** Reads a system header or fails with the install hint. */
export function readHeader(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing; install the kernel uapi headers: ${INSTALL_HINT}`);
  return readFileSync(path, 'utf8');
}

const cstr = (s: string): string => JSON.stringify(s);

function structLines(s: HeaderAggregate): string[] {
  const t = `${s.kind} ${s.name}`;
  const lines = [`  printf("S %s %zu %zu\\n", ${cstr(s.name)}, sizeof(${t}), _Alignof(${t}));`];
  for (const f of s.members) {
    const size = f.dims.includes('') ? '(size_t)-1' : `sizeof(((${t} *)0)->${f.path})`;
    lines.push(
      `  printf("F %s %s %zu %zd\\n", ${cstr(s.name)}, ${cstr(f.path)}, offsetof(${t}, ${f.path}), (ssize_t)${size});`,
    );
  }
  return lines;
}

/** Builds the probe program for a parsed header (plus extra expressions). */
export function probeProgram(path: string, parsed: ParsedHeader, extras: Record<string, string>): string {
  const names = [...parsed.defines.map((d) => d.name), ...parsed.enums.flatMap((e) => e.names)];
  const out = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <sys/types.h>',
    `#include ${cstr(path)}`,
    'int main(void) {',
    ...names.map(
      (n) =>
        `  printf("C %s %d %d %llu\\n", ${cstr(n)}, (int)sizeof(${n}), (int)((${n}) < 0), (unsigned long long)(${n}));`,
    ),
    ...parsed.aggregates.flatMap(structLines),
    ...Object.entries(extras).map(
      ([n, expr]) => `  printf("X %s %llu\\n", ${cstr(n)}, (unsigned long long)(${expr}));`,
    ),
    '  return 0;',
    '}',
  ];
  return `${out.join('\n')}\n`;
}

function parseOutput(stdout: string, probe: HeaderProbe): void {
  for (const line of stdout.split('\n')) {
    const p = line.split(' ');
    if (p[0] === 'C') {
      const size = Number(p[2]);
      const modulus = 1n << BigInt(8 * size);
      probe.constants.set(p[1]!, { value: BigInt(p[4]!) % modulus, negative: p[3] === '1', size });
    } else if (p[0] === 'S') {
      probe.structs.set(p[1]!, { size: Number(p[2]), align: Number(p[3]), fields: new Map() });
    } else if (p[0] === 'F') {
      probe.structs.get(p[1]!)?.fields.set(p[2]!, { offset: Number(p[3]), size: Number(p[4]) });
    } else if (p[0] === 'X') {
      probe.extras.set(p[1]!, BigInt(p[2]!));
    }
  }
}

/** Parses `path`, compiles and runs the probe program; throws (with the install hint) if gcc or the header is missing. */
export function probeHeader(path: string, extras: Record<string, string> = {}): HeaderProbe {
  const text = readHeader(path);
  requireTool();
  const parsed = parseCHeader(text);
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-uapi-'));
  try {
    const src = join(dir, 'probe.c');
    const bin = join(dir, 'probe');
    writeFileSync(src, probeProgram(path, parsed, extras));
    // kfd_ioctl.h includes <drm/drm.h> only for the __u* types. Debian's
    // linux-libc-dev does not ship include/drm (libdrm-dev puts drm.h under
    // /usr/include/libdrm), so a fallback that is searched AFTER the system
    // directories provides <linux/types.h> under that name; a real drm/drm.h wins.
    mkdirSync(join(dir, 'fallback', 'drm'), { recursive: true });
    writeFileSync(join(dir, 'fallback', 'drm', 'drm.h'), '#include <linux/types.h>\n');
    const args = ['-std=gnu11', '-O0', '-w', '-idirafter', join(dir, 'fallback'), '-o', bin, src];
    try {
      execFileSync('gcc', args, { stdio: 'pipe' });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
      throw new Error(`compiling the probe for ${path} failed (${INSTALL_HINT}?):\n${stderr}`);
    }
    const probe: HeaderProbe = {
      path,
      parsed,
      constants: new Map(),
      structs: new Map(),
      extras: new Map(),
    };
    parseOutput(execFileSync(bin, { encoding: 'utf8' }), probe);
    return probe;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
