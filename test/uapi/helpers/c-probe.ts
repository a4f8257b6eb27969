/**
 * Asks gcc for the numbers of a uapi header: generates a C program that prints
 * every constant, `sizeof`/`_Alignof` of every struct and union and
 * `offsetof`/`sizeof` of every (nested) member, compiles it in a temporary
 * directory and parses its output. runProbe is the one gcc probe of the uapi
 * tests; probeHeader applies it to kfd_ioctl.h, drm-probe.ts to the DRM headers.
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

/** A struct or union as the probe program measured it. */
export interface ProbedAggregate {
  kind: 'struct' | 'union';
  size: number;
  align: number;
  members: Map<string, ProbedField>;
}

/** What one run of a probe program printed. */
export interface ProbeOutput {
  /** Numeric object-like #defines and enumerators, by name. */
  constants: Map<string, ProbedConstant>;
  /** String-literal #defines (`DRM_NAME`), by name. */
  strings: Map<string, string>;
  aggregates: Map<string, ProbedAggregate>;
  /** Extra expressions evaluated on request (name → unsigned value). */
  extras: Map<string, bigint>;
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

/** Throws unless gcc runs; `test` names the test that needs it, `hint` what to install. */
export function requireGcc(test: string, hint: string): void {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error(`gcc is not available; ${test} needs it: ${hint}`);
  }
}

/** Reads a system header or fails with the install hint. */
export function readHeader(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing; install the kernel uapi headers: ${INSTALL_HINT}`);
  return readFileSync(path, 'utf8');
}

const cstr = (s: string): string => JSON.stringify(s);

function aggregateLines(a: HeaderAggregate): string[] {
  const t = `${a.kind} ${a.name}`;
  const lines = [`  printf("S %s %s %zu %zu\\n", ${cstr(a.name)}, ${cstr(a.kind)}, sizeof(${t}), _Alignof(${t}));`];
  for (const m of a.members) {
    const size = m.dims.includes('') ? '(ssize_t)-1' : `(ssize_t)sizeof(((${t} *)0)->${m.path})`;
    lines.push(`  printf("F %s %s %zu %zd\\n", ${cstr(a.name)}, ${cstr(m.path)}, offsetof(${t}, ${m.path}), ${size});`);
  }
  return lines;
}

/**
 * The probe program for a parsed header: `includes` are the operands of the
 * #include lines after <stdio.h>, <stddef.h> and <sys/types.h> (the header itself
 * last), `extras` expressions to evaluate by name.
 */
export function probeProgram(includes: string[], parsed: ParsedHeader, extras: Record<string, string>): string {
  const numeric = [
    ...parsed.defines.filter((d) => d.kind === 'number').map((d) => d.name),
    ...parsed.enums.flatMap((e) => e.names),
  ];
  const out = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <sys/types.h>',
    ...includes.map((i) => `#include ${i}`),
    'int main(void) {',
    ...numeric.map(
      (n) =>
        `  printf("C %s %d %d %llu\\n", ${cstr(n)}, (int)sizeof(${n}), (int)((${n}) < 0), (unsigned long long)(${n}));`,
    ),
    ...parsed.defines
      .filter((d) => d.kind === 'string')
      .map((d) => `  printf("T %s %s\\n", ${cstr(d.name)}, ${d.name});`),
    ...parsed.aggregates.flatMap(aggregateLines),
    ...Object.entries(extras).map(
      ([n, expr]) => `  printf("X %s %llu\\n", ${cstr(n)}, (unsigned long long)(${expr}));`,
    ),
    '  return 0;',
    '}',
  ];
  return `${out.join('\n')}\n`;
}

function parseOutput(stdout: string): ProbeOutput {
  const probe: ProbeOutput = { constants: new Map(), strings: new Map(), aggregates: new Map(), extras: new Map() };
  for (const line of stdout.split('\n')) {
    const p = line.split(' ');
    if (p[0] === 'C') {
      const size = Number(p[2]);
      probe.constants.set(p[1]!, {
        value: BigInt.asUintN(8 * size, BigInt(p[4]!)),
        negative: p[3] === '1',
        size,
      });
    } else if (p[0] === 'T') {
      probe.strings.set(p[1]!, p.slice(2).join(' '));
    } else if (p[0] === 'S') {
      probe.aggregates.set(p[1]!, {
        kind: p[2] as 'struct' | 'union',
        size: Number(p[3]),
        align: Number(p[4]),
        members: new Map(),
      });
    } else if (p[0] === 'F') {
      probe.aggregates.get(p[1]!)?.members.set(p[2]!, { offset: Number(p[3]), size: Number(p[4]) });
    } else if (p[0] === 'X') {
      probe.extras.set(p[1]!, BigInt(p[2]!));
    }
  }
  return probe;
}

/** How to compile the probe program of the header at `path`. */
export interface ProbeBuild {
  path: string;
  program: string;
  /** gcc's include options; may write what they point to into the temporary directory `tmp`. */
  includeFlags: (tmp: string) => string[];
  /** What to install when the probe does not compile. */
  hint: string;
  /** Prefix of the temporary directory's name. */
  tmpPrefix: string;
}

/** Compiles and runs a probe program in a temporary directory (gcc is checked by the caller: requireGcc). */
export function runProbe(b: ProbeBuild): ProbeOutput {
  const tmp = mkdtempSync(join(tmpdir(), b.tmpPrefix));
  try {
    const src = join(tmp, 'probe.c');
    const bin = join(tmp, 'probe');
    writeFileSync(src, b.program);
    try {
      execFileSync('gcc', ['-std=gnu11', '-O0', '-w', ...b.includeFlags(tmp), '-o', bin, src], { stdio: 'pipe' });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
      throw new Error(`compiling the probe for ${b.path} failed (${b.hint}?):\n${stderr}`);
    }
    return parseOutput(execFileSync(bin, { encoding: 'utf8', maxBuffer: 64 << 20 }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Parses `path`, compiles and runs the probe program; throws (with the install hint) if gcc or the header is missing. */
export function probeHeader(path: string, extras: Record<string, string> = {}): HeaderProbe {
  const text = readHeader(path);
  requireGcc('the uapi header test', INSTALL_HINT);
  const parsed = parseCHeader(text);
  const out = runProbe({
    path,
    program: probeProgram([cstr(path)], parsed, extras),
    // kfd_ioctl.h includes <drm/drm.h> only for the __u* types. Debian's
    // linux-libc-dev does not ship include/drm (libdrm-dev puts drm.h under
    // /usr/include/libdrm), so a fallback that is searched AFTER the system
    // directories provides <linux/types.h> under that name; a real drm/drm.h wins.
    includeFlags: (tmp) => {
      mkdirSync(join(tmp, 'fallback', 'drm'), { recursive: true });
      writeFileSync(join(tmp, 'fallback', 'drm', 'drm.h'), '#include <linux/types.h>\n');
      return ['-idirafter', join(tmp, 'fallback')];
    },
    hint: INSTALL_HINT,
    tmpPrefix: 'gpucr-uapi-',
  });
  const structs = new Map<string, ProbedStruct>();
  for (const [name, a] of out.aggregates) structs.set(name, { size: a.size, align: a.align, fields: a.members });
  return { path, parsed, constants: out.constants, structs, extras: out.extras };
}
