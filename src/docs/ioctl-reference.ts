/**
 * docs/kfd-ioctls.md, generated from the call registry (allCalls()): for every call
 * gpucr models, the kernel function it models, its argument schema, its out fields
 * and its checks in the kernel's order; plus the §4 dispatch checks every /dev/kfd
 * ioctl passes first (src/ioctls/kfd/dispatch.ts), and the DRM dispatch checks every
 * render-node ioctl passes (src/ioctls/drm/dispatch.ts). The page's intro is hand-written;
 * this module writes only the block between `<!-- ioctls:begin -->` and `<!-- ioctls:end -->`.
 */
import '../ioctls/all.js';
import { DRM_DISPATCH_CHECKS, DRM_DISPATCH_NOT_MODELLED } from '../ioctls/drm/dispatch.js';
import { allCalls, type CallDef } from '../ioctls/registry.js';
import type { FieldType } from '../ioctls/schema.js';
import { DRM_IOCTL_AMDGPU_CRIU_OP, renderNodeIoctl } from '../uapi/amdgpu.js';
import type { DrmIoctl } from '../uapi/drm.js';
import { AMDKFD_IOCTLS, type KfdIoctl } from '../uapi/index.js';

/** Marker name of the generated section of docs/kfd-ioctls.md. */
export const IOCTLS_MARKER = 'ioctls';

/**
 * kfd_ioctl() (kfd_chardev.c), spec §4, as src/ioctls/kfd/dispatch.ts applies it
 * before every handler of a /dev/kfd ioctl. Written here by hand: dispatch.ts is
 * code, not data. Keep in step with it.
 */
export const DISPATCH_CHECKS: readonly string[] = [
  'the fd is not open in the caller (sys_ioctl: fdget fails) → -EBADF',
  'the file is not /dev/kfd (a tty, a render node, a dma-buf does not know the ioctl) → -ENOTTY',
  'the fd’s kfd_process is not the caller’s (“Using KFD FD in wrong process”), unless the ioctl is flagged KFD_IOC_FLAG_CHECKPOINT_RESTORE (only AMDKFD_IOC_CRIU_OP) and the caller is the ptrace parent of the file’s process → -EBADF',
  'a KFD_IOC_FLAG_CHECKPOINT_RESTORE ioctl from a caller with neither CAP_CHECKPOINT_RESTORE nor CAP_SYS_ADMIN → -EACCES',
];

/** What spec §4 lists and gpucr does not check at dispatch, and why. */
export const DISPATCH_NOT_MODELLED: readonly string[] = [
  '`nr` outside the ioctl table → -ENOTTY: a log names ioctls by name, and a name gpucr does not know is a log error (exit 2), not a call',
  '`func == NULL` → -EINVAL: every registered ioctl has a handler',
  'argument copy faults → -EFAULT: a log carries the argument struct inline; handlers return -EFAULT where a user array is shorter than its count says',
  '`kfd_open()` checks (non-zero minor → -ENODEV, 32-bit caller → -EPERM): gpucr has one /dev/kfd and 64-bit callers only',
];

/** Markdown-safe prose: no HTML tag, emphasis or code span made by accident from registry text. */
export function mdText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\*/g, '\\*').replace(/</g, '&lt;');
}

/** A field type in one line, without `|` (tables) or backticks (it is put in a code span). */
export function typeText(t: FieldType): string {
  switch (t.t) {
    case 'u32':
    case 'u64':
    case 's32':
    case 'bool':
    case 'string':
      return t.t;
    case 'bytes':
      return 'bytes (hex)';
    case 'flags':
      return `flags ${t.prefix}*`;
    case 'enum': {
      const names = Object.entries(t.values)
        .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
        .map(([k, v]) => `${k}=${v}`);
      return `enum ${t.prefix}* (${names.join(', ')})`;
    }
    case 'array':
      return `${typeText(t.of)}[]`;
    case 'nullable':
      return `${typeText(t.of)} or null`;
    case 'struct':
      return `{ ${Object.entries(t.fields)
        .map(([k, f]) => `${k}: ${typeText(f)}`)
        .join(', ')} }`;
  }
}

const KIND_ORDER: Record<CallDef['kind'], number> = { ioctl: 0, syscall: 1, internal: 2 };

function uapiOf(name: string): KfdIoctl | undefined {
  return Object.hasOwn(AMDKFD_IOCTLS, name) ? (AMDKFD_IOCTLS as Record<string, KfdIoctl>)[name] : undefined;
}

/** A render-node ioctl of the call registry (`DRM_IOCTL_*`), as opposed to a /dev/kfd one. */
export function isDrmIoctl(def: CallDef): boolean {
  return def.kind === 'ioctl' && def.name.startsWith('DRM_IOCTL_');
}

/** The uapi entry of a render-node ioctl (drm.h, amdgpu_drm.h; the proposal's CRIU_OP, spec §8.1). */
function drmUapiOf(name: string): DrmIoctl | undefined {
  return name === DRM_IOCTL_AMDGPU_CRIU_OP.name ? DRM_IOCTL_AMDGPU_CRIU_OP : renderNodeIoctl(name);
}

/**
 * /dev/kfd ioctls in kfd_ioctl.h order, then render-node ioctls in drm.h / amdgpu_drm.h order,
 * then syscalls, then kernel-internal events (each by name).
 */
export function orderedCalls(): CallDef[] {
  const nr = (d: CallDef) => (isDrmIoctl(d) ? drmUapiOf(d.name)?.nr : uapiOf(d.name)?.nr) ?? Number.MAX_SAFE_INTEGER;
  return [...allCalls()].sort((a, b) => {
    const k = KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
    if (k !== 0) return k;
    const g = Number(isDrmIoctl(a)) - Number(isDrmIoctl(b));
    if (g !== 0) return g;
    return nr(a) - nr(b) || a.name.localeCompare(b.name);
  });
}

/** GitHub's heading anchor: lower case, punctuation but `-` and `_` dropped, spaces → `-`. */
export function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

const DIR_MACRO: Record<KfdIoctl['dir'], string> = {
  none: 'AMDKFD_IO',
  r: 'AMDKFD_IOR',
  w: 'AMDKFD_IOW',
  rw: 'AMDKFD_IOWR',
};

const DRM_DIR_MACRO: Record<DrmIoctl['dir'], string> = {
  none: 'DRM_IO',
  r: 'DRM_IOR',
  w: 'DRM_IOW',
  rw: 'DRM_IOWR',
};

function kindText(def: CallDef): string {
  if (isDrmIoctl(def)) return 'ioctl on a render-node fd (the DRM dispatch checks below run first)';
  if (def.kind === 'ioctl') return 'ioctl on a /dev/kfd fd (the dispatch checks below run first)';
  if (def.kind === 'syscall') return 'system call or workload action of the process `pid`';
  return 'kernel-internal event (a worker or interrupt), issued without a `pid`';
}

function callSection(def: CallDef): string[] {
  const out: string[] = [`### ${def.name}`, ''];
  out.push(`- models: ${mdText(def.models)}`);
  out.push(`- kind: ${kindText(def)}`);
  const u = uapiOf(def.name);
  if (u) {
    const arg = u.struct ? `, struct ${u.struct}` : '';
    const request = `0x${u.request.toString(16).padStart(8, '0')}`;
    out.push(`- uapi: \`${DIR_MACRO[u.dir]}(${hex(u.nr)}${arg})\`, request \`${request}\``);
  }
  const d = isDrmIoctl(def) ? drmUapiOf(def.name) : undefined;
  if (d) {
    const nrText = d.command === undefined ? hex(d.nr) : `DRM_COMMAND_BASE + ${hex(d.command)}`;
    const arg = d.arg ? `, ${d.arg}` : '';
    const request = `0x${d.request.toString(16).padStart(8, '0')}`;
    const newer = d.newer ? ` (not in the CI header: ${mdText(d.newer.source)})` : '';
    out.push(`- uapi: \`${DRM_DIR_MACRO[d.dir]}(${nrText}${arg})\`, request \`${request}\`${newer}`);
  }
  out.push('');
  const fields = Object.entries(def.args);
  const outOnly = def.out.filter((f) => !Object.hasOwn(def.args, f));
  if (fields.length === 0 && outOnly.length === 0) {
    out.push('Arguments: none.', '');
  } else {
    out.push('| field | type | direction |', '| --- | --- | --- |');
    for (const [name, t] of fields) {
      // An AMDKFD_IOR struct is only copied out: its out fields are not inputs.
      const dir = !def.out.includes(name) ? 'in' : (u ?? d)?.dir === 'r' ? 'out' : 'in/out';
      out.push(`| \`${name}\` | \`${typeText(t)}\` | ${dir} |`);
    }
    for (const name of outOnly) out.push(`| \`${name}\` | (result) | out |`);
    out.push('');
  }
  if (def.checks.length === 0) {
    out.push('Checks: none (the call always succeeds).', '');
  } else {
    out.push('Checks, in the kernel’s order:', '');
    def.checks.forEach((c, i) => {
      out.push(`${i + 1}. ${mdText(c)}`);
    });
    out.push('');
  }
  return out;
}

/** The index table: one row per call, linking to its section. */
function callsTable(calls: readonly CallDef[]): string[] {
  const lines = ['## Calls', '', '| call | kind | models |', '| --- | --- | --- |'];
  for (const def of calls) {
    const models = mdText(def.models).replace(/\|/g, '\\|');
    lines.push(`| [${def.name}](#${anchorOf(def.name)}) | ${def.kind} | ${models} |`);
  }
  lines.push('');
  return lines;
}

/** A dispatch section: the heading, the sentence naming the kernel function, the numbered checks, what is not checked. */
function dispatchSection(
  heading: string,
  intro: string,
  checks: readonly string[],
  notModelled: readonly string[],
  notModelledText: (s: string) => string,
): string[] {
  const lines = [heading, '', intro, ''];
  checks.forEach((c, i) => {
    lines.push(`${i + 1}. ${mdText(c)}`);
  });
  lines.push('', 'Not checked at dispatch:', '');
  for (const c of notModelled) lines.push(`- ${notModelledText(c)}`);
  lines.push('');
  return lines;
}

/** §4: the checks kfd_ioctl() applies to every /dev/kfd ioctl. */
function kfdDispatchSection(): string[] {
  // The hand-written DISPATCH_NOT_MODELLED already holds markdown (code spans): printed as is.
  return dispatchSection(
    '## Dispatch checks of every /dev/kfd ioctl (spec §4)',
    'kfd_ioctl() (kfd_chardev.c) runs these before the ioctl’s own function, in this order ' +
      '(src/ioctls/kfd/dispatch.ts):',
    DISPATCH_CHECKS,
    DISPATCH_NOT_MODELLED,
    (c) => c,
  );
}

/** §8.2: the checks drm_ioctl() applies to every render-node ioctl (only when one is registered). */
function drmDispatchSection(calls: readonly CallDef[]): string[] {
  if (!calls.some(isDrmIoctl)) return [];
  return dispatchSection(
    '## Dispatch checks of every render-node ioctl (spec §8.2)',
    'drm_ioctl() (drm_ioctl.c) runs these before the ioctl’s own function, in this order ' +
      '(src/ioctls/drm/dispatch.ts):',
    DRM_DISPATCH_CHECKS,
    DRM_DISPATCH_NOT_MODELLED,
    mdText,
  );
}

/** The /dev/kfd ioctls of the uapi catalogue that have no handler, in nr order. */
function unmodelledSection(calls: readonly CallDef[]): string[] {
  const unmodelled = Object.values<KfdIoctl>(AMDKFD_IOCTLS)
    .filter((u) => !calls.some((c) => c.name === u.name))
    .sort((a, b) => a.nr - b.nr);
  if (unmodelled.length === 0) return [];
  return [
    '## /dev/kfd ioctls gpucr does not model',
    '',
    'The uapi catalogue knows them (src/uapi/kfd-ioctls.ts), but no handler is registered: ' +
      'a log line that names one is rejected as bad input.',
    '',
    unmodelled.map((u) => `\`${u.name}\` (${hex(u.nr)})`).join(', '),
    '',
  ];
}

const KIND_TITLES: Record<CallDef['kind'], string> = {
  ioctl: 'Ioctls',
  syscall: 'System calls and workload actions',
  internal: 'Kernel-internal events',
};

/** One section per kind of call (ioctls, syscalls, internal events), each call's section in order. */
function callSections(calls: readonly CallDef[]): string[] {
  const lines: string[] = [];
  for (const kind of ['ioctl', 'syscall', 'internal'] as const) {
    const group = calls.filter((c) => c.kind === kind);
    if (group.length === 0) continue;
    lines.push(`## ${KIND_TITLES[kind]}`, '');
    for (const def of group) lines.push(...callSection(def));
  }
  return lines;
}

/** The generated block of docs/kfd-ioctls.md (ends with a newline). */
export function ioctlReference(): string {
  const calls = orderedCalls();
  const lines: string[] = [
    '<!-- generated from allCalls() (src/ioctls/) by `gpucr docs`; do not edit by hand -->',
    '',
    ...callsTable(calls),
    ...kfdDispatchSection(),
    ...drmDispatchSection(calls),
    ...unmodelledSection(calls),
    ...callSections(calls),
  ];
  while (lines[lines.length - 1] === '') lines.pop();
  return `${lines.join('\n')}\n`;
}
