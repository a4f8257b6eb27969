/**
 * Asks gcc for the numbers of the DRM uapi headers (drm.h, drm_mode.h,
 * amdgpu_drm.h from libdrm-dev): generates a C program that prints every
 * constant, `sizeof`/`_Alignof` of every top-level struct and union and
 * `offsetof`/`sizeof` of every (nested) member, compiles it with
 * `-I<include dir>` in a temporary directory and parses its output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbedConstant } from './c-probe.js';
import { type HeaderAggregate, type ParsedHeader, parseCHeader } from './c-header.js';

/** What to install when gcc or the headers are missing (Debian/Ubuntu). */
export const DRM_INSTALL_HINT = 'apt-get install -y gcc libdrm-dev';

/** Directories searched for drm.h: libdrm-dev's, then the kernel's uapi copy (other distros). */
export const DRM_INCLUDE_CANDIDATES = ['/usr/include/libdrm', '/usr/include/drm'];

export interface DrmProbedMember {
  offset: number;
  /** `sizeof` the member; -1 for a flexible array member. */
  size: number;
}

export interface DrmProbedAggregate {
  kind: 'struct' | 'union';
  size: number;
  align: number;
  members: Map<string, DrmProbedMember>;
}

export interface DrmHeaderProbe {
  path: string;
  parsed: ParsedHeader;
  /** Numeric object-like #defines and enumerators, by name. */
  constants: Map<string, ProbedConstant>;
  /** String-literal #defines (`DRM_NAME`), by name. */
  strings: Map<string, string>;
  aggregates: Map<string, DrmProbedAggregate>;
  /** Extra expressions evaluated on request (name → unsigned value). */
  extras: Map<string, bigint>;
}

function requireGcc(): void {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error(`gcc is not available; the DRM uapi header test needs it: ${DRM_INSTALL_HINT}`);
  }
}

/**
 * The directory holding drm.h and amdgpu_drm.h: `$GPUCR_DRM_INCLUDE`, else the
 * first of DRM_INCLUDE_CANDIDATES that has both; throws with the install hint.
 */
export function drmIncludeDir(): string {
  const env = process.env.GPUCR_DRM_INCLUDE;
  const candidates = env ? [env] : DRM_INCLUDE_CANDIDATES;
  const dir = candidates.find((d) => existsSync(join(d, 'drm.h')) && existsSync(join(d, 'amdgpu_drm.h')));
  if (!dir) {
    throw new Error(
      `drm.h and amdgpu_drm.h not found in ${candidates.join(' or ')}; install libdrm-dev: ${DRM_INSTALL_HINT}`,
    );
  }
  return dir;
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

/** The probe program for one parsed header (drm.h is included first; <fcntl.h> for DRM_RDWR/DRM_CLOEXEC). */
export function drmProbeProgram(dir: string, file: string, parsed: ParsedHeader, extras: Record<string, string>) {
  const numeric = [
    ...parsed.defines.filter((d) => d.kind === 'number').map((d) => d.name),
    ...parsed.enums.flatMap((e) => e.names),
  ];
  const out = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <fcntl.h>',
    '#include <sys/types.h>',
    `#include ${cstr(join(dir, 'drm.h'))}`,
    `#include ${cstr(join(dir, file))}`,
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

function parseOutput(stdout: string, probe: DrmHeaderProbe): void {
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
}

/**
 * Parses `dir/file`, compiles and runs its probe; throws (with the install
 * hint) if gcc or the header is missing or the probe does not compile.
 */
export function probeDrmHeader(dir: string, file: string, extras: Record<string, string> = {}): DrmHeaderProbe {
  const path = join(dir, file);
  if (!existsSync(path)) throw new Error(`${path} is missing; install libdrm-dev: ${DRM_INSTALL_HINT}`);
  const parsed = parseCHeader(readFileSync(path, 'utf8'));
  requireGcc();
  const tmp = mkdtempSync(join(tmpdir(), 'gpucr-drm-'));
  try {
    const src = join(tmp, 'probe.c');
    const bin = join(tmp, 'probe');
    writeFileSync(src, drmProbeProgram(dir, file, parsed, extras));
    try {
      execFileSync('gcc', ['-std=gnu11', '-O0', '-w', `-I${dir}`, '-o', bin, src], { stdio: 'pipe' });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
      throw new Error(`compiling the probe for ${path} failed (${DRM_INSTALL_HINT}?):\n${stderr}`);
    }
    const probe: DrmHeaderProbe = {
      path,
      parsed,
      constants: new Map(),
      strings: new Map(),
      aggregates: new Map(),
      extras: new Map(),
    };
    parseOutput(execFileSync(bin, { encoding: 'utf8', maxBuffer: 64 << 20 }), probe);
    return probe;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
