/**
 * Asks gcc for the numbers of the DRM uapi headers (drm.h, drm_mode.h,
 * amdgpu_drm.h from libdrm-dev): generates a C program that prints every
 * constant, `sizeof`/`_Alignof` of every top-level struct and union and
 * `offsetof`/`sizeof` of every (nested) member, compiles it with
 * `-I<include dir>` in a temporary directory and parses its output (c-probe.ts's
 * runProbe, the probe the KFD header test uses too).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ProbedAggregate,
  type ProbedField,
  type ProbeOutput,
  probeProgram,
  requireGcc,
  runProbe,
} from './c-probe.js';
import { type ParsedHeader, parseCHeader } from './c-header.js';

/** What to install when gcc or the headers are missing (Debian/Ubuntu). */
export const DRM_INSTALL_HINT = 'apt-get install -y gcc libdrm-dev';

/** Directories searched for drm.h: libdrm-dev's, then the kernel's uapi copy (other distros). */
export const DRM_INCLUDE_CANDIDATES = ['/usr/include/libdrm', '/usr/include/drm'];

export type DrmProbedMember = ProbedField;

export type DrmProbedAggregate = ProbedAggregate;

/** The DRM header's probe: its numeric and string constants and its structs and unions. */
export interface DrmHeaderProbe extends ProbeOutput {
  path: string;
  parsed: ParsedHeader;
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

/**
 * Parses `dir/file`, compiles and runs its probe; throws (with the install
 * hint) if gcc or the header is missing or the probe does not compile.
 */
export function probeDrmHeader(dir: string, file: string, extras: Record<string, string> = {}): DrmHeaderProbe {
  const path = join(dir, file);
  if (!existsSync(path)) throw new Error(`${path} is missing; install libdrm-dev: ${DRM_INSTALL_HINT}`);
  const parsed = parseCHeader(readFileSync(path, 'utf8'));
  requireGcc('the DRM uapi header test', DRM_INSTALL_HINT);
  // drm.h is included first; <fcntl.h> for DRM_RDWR/DRM_CLOEXEC.
  const includes = ['<fcntl.h>', JSON.stringify(join(dir, 'drm.h')), JSON.stringify(path)];
  const out = runProbe({
    path,
    program: probeProgram(includes, parsed, extras),
    includeFlags: () => [`-I${dir}`],
    hint: DRM_INSTALL_HINT,
    tmpPrefix: 'gpucr-drm-',
  });
  return { path, parsed, ...out };
}
