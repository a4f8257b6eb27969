/**
 * docs/kfd-ioctls.md is current, the generator renders the registry faithfully, and
 * the hand-written §4 dispatch section says what the dispatcher does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { extractBlock } from '../../src/docs/diagram.js';
import {
  DISPATCH_CHECKS,
  IOCTLS_MARKER,
  ioctlReference,
  mdText,
  orderedCalls,
  typeText,
} from '../../src/docs/ioctl-reference.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { ERRNO } from '../../src/uapi/errno.js';
import { step } from '../../src/world/step.js';
import { parseTopology } from '../../src/world/topology.js';
import type { World } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGE = join(ROOT, 'docs/kfd-ioctls.md');

describe('docs/kfd-ioctls.md', () => {
  it('carries the generated reference of every registered call', () => {
    const block = extractBlock(readFileSync(PAGE, 'utf8'), IOCTLS_MARKER);
    expect(block, 'docs/kfd-ioctls.md is stale: run `npm run build && node dist/src/cli/main.js docs`').toBe(
      ioctlReference(),
    );
  });
});

describe('ioctlReference()', () => {
  const text = ioctlReference();
  const calls = orderedCalls();
  const section = (name: string) => {
    const start = text.indexOf(`\n### ${name}\n`);
    const next = text.indexOf('\n### ', start + 1);
    return text.slice(start, next < 0 ? undefined : next);
  };

  it('lists ioctls first, then system calls, then kernel-internal events', () => {
    const kinds = calls.map((c) => c.kind);
    const rank = { ioctl: 0, syscall: 1, internal: 2 } as const;
    expect(kinds.map((k) => rank[k])).toEqual([...kinds.map((k) => rank[k])].sort());
    expect(kinds[0]).toBe('ioctl');
    const headings = [...text.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(calls.map((c) => c.name));
  });

  it('orders the ioctls by their kfd_ioctl.h number (GET_VERSION is 0x01)', () => {
    expect(calls[0]!.name).toBe('AMDKFD_IOC_GET_VERSION');
    expect(text).toContain('`AMDKFD_IOWR(0x22, struct kfd_ioctl_criu_args)`');
  });

  for (const name of ['AMDKFD_IOC_ACQUIRE_VM', 'AMDKFD_IOC_CRIU_OP', 'AMDKFD_IOC_SVM', 'open']) {
    it(`${name}: models, every argument with its type, out fields, checks numbered in order`, () => {
      const def = callDef(name)!;
      const s = section(name);
      expect(s).toContain(`- models: ${mdText(def.models)}`);
      for (const [field, t] of Object.entries(def.args)) expect(s).toContain(`| \`${field}\` | \`${typeText(t)}\` |`);
      for (const f of def.out) expect(s).toMatch(new RegExp(`\\| \`${f}\` \\|.*\\| (in/)?out \\|`));
      let from = 0;
      def.checks.forEach((c, i) => {
        const at = s.indexOf(`\n${i + 1}. ${mdText(c)}\n`, from);
        expect(at, `check ${i + 1} of ${name}`).toBeGreaterThan(from - 1);
        from = at;
      });
    });
  }

  it('renders enums with their values and flag words with their prefix', () => {
    expect(section('AMDKFD_IOC_CRIU_OP')).toContain(
      '`enum KFD_CRIU_OP_* (PROCESS_INFO=0, CHECKPOINT=1, UNPAUSE=2, RESTORE=3, RESUME=4)`',
    );
    expect(section('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU')).toContain('| `flags` | `flags KFD_IOC_ALLOC_MEM_FLAGS_*` | in |');
  });

  it('does not let registry text turn into HTML or emphasis', () => {
    expect(mdText('/dev/dri/renderD<minor>')).toBe('/dev/dri/renderD&lt;minor>');
    expect(mdText('FLAGS_*')).toBe('FLAGS_\\*');
    expect(text).not.toMatch(/renderD<minor>/);
  });

  it('contains the §4 dispatch checks in order', () => {
    let from = 0;
    DISPATCH_CHECKS.forEach((c, i) => {
      const at = text.indexOf(`${i + 1}. ${mdText(c)}`, from);
      expect(at).toBeGreaterThanOrEqual(from);
      from = at;
    });
  });
});

/**
 * The dispatch section is prose; these tests hold the model to it (and to spec §4).
 * Pid 100 owns /dev/kfd on fd 3 and a render node on fd 4; 99 is its ptrace parent;
 * 98 is a stranger; 97 is a ptrace parent without capabilities.
 */
describe('the dispatch checks the page states hold in the model', () => {
  const topology = parseTopology({ gpus: [{ gpu_id: 0x1002, render_minor: 128 }] }, [
    { pid: 100, ptrace_parent: 99 },
    { pid: 101, ptrace_parent: 97 },
    { pid: 97, caps: [] },
  ]);
  function world(): World {
    let w = createWorld(topology);
    for (const pid of [100, 101]) {
      w = step(w, { pid, call: 'open', args: { path: '/dev/kfd', flags: 0 } }).world;
      w = step(w, { pid, call: 'open', args: { path: '/dev/dri/renderD128', flags: 0 } }).world;
    }
    return w;
  }
  const criu = (op: string) => decodeArgs(callDef('AMDKFD_IOC_CRIU_OP')!.args, { op }, 'args');
  const version = { major_version: 0, minor_version: 0 };

  it('spec §4: an ioctl on an fd that is not open → -EBADF', () => {
    const r = step(world(), { pid: 100, call: 'AMDKFD_IOC_GET_VERSION', fd: 9, args: version });
    expect(r.ret).toBe(-ERRNO.EBADF);
  });

  it('spec §4: a /dev/kfd ioctl on a render-node fd → -ENOTTY', () => {
    const r = step(world(), { pid: 100, call: 'AMDKFD_IOC_GET_VERSION', fd: 4, args: version });
    expect(r.ret).toBe(-ERRNO.ENOTTY);
  });

  it('spec §4: another process’s /dev/kfd fd → -EBADF ("Using KFD FD in wrong process")', () => {
    const w = world();
    const fd = { pid: 100, fd: 3 };
    expect(step(w, { pid: 98, call: 'AMDKFD_IOC_GET_VERSION', fd, args: version }).ret).toBe(-ERRNO.EBADF);
    expect(step(w, { pid: 98, call: 'AMDKFD_IOC_CRIU_OP', fd, args: criu('PROCESS_INFO') }).ret).toBe(-ERRNO.EBADF);
    // Even the ptrace parent may use it only for the CHECKPOINT_RESTORE-flagged CRIU_OP.
    expect(step(w, { pid: 99, call: 'AMDKFD_IOC_GET_VERSION', fd, args: version }).ret).toBe(-ERRNO.EBADF);
    expect(step(w, { pid: 99, call: 'AMDKFD_IOC_CRIU_OP', fd, args: criu('PROCESS_INFO') }).ret).toBe(0);
  });

  it('spec §4: CRIU_OP without CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN → -EACCES', () => {
    const r = step(world(), {
      pid: 97,
      call: 'AMDKFD_IOC_CRIU_OP',
      fd: { pid: 101, fd: 3 },
      args: criu('PROCESS_INFO'),
    });
    expect(r.ret).toBe(-ERRNO.EACCES);
  });
});
