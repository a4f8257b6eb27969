/**
 * KFD ioctl interface versions against the spec (spec §2.1 version history,
 * §2.2–§2.4 "since" notes, §2.1/§9.4 plugin minimum): what GET_VERSION reports,
 * the "since" minor of every ioctl, constant and struct change the spec dates,
 * the command range of the minors below 1.11 (the system-header comparison in
 * kfd-header.test.ts covers 1.11 and later), and the plugin's minimum version.
 *
 * Every expected value is typed in from the spec text quoted next to it. Items the
 * spec does not date precisely are left out: SET_XNACK_MODE (0x21, not named in
 * §2.1), RUNTIME_ENABLE and DBG_TRAP ("1.13 | debugger API" names no ioctl),
 * both EXT_COHERENT flags (§2.3 gives no minor), the ioctls 0x01–0x1E and the
 * minors whose meaning is not a kfd_ioctl.h name (1.4, 1.6, 1.8, 1.10, 1.11, 1.15).
 */
import { describe, expect, test } from 'vitest';
import { KFD_MIN } from '../../src/criu/orchestrate-common.js';
import { allCalls } from '../../src/ioctls/registry.js';
import {
  AMDKFD_IOCTLS,
  KFD_CONSTANT_SINCE,
  kfdCommandEnd,
  type KfdIoctlName,
  kfdIoctlRequest,
  kfdStructAt,
} from '../../src/uapi/index.js';
import { APP, Harness } from '../conformance/helpers.js';

/** Minors listed in the spec §2.1 table ("| 1.1 | initial |" … "| 1.19 | new ioctl … |"). */
const SPEC_MINORS = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];

/** Ioctls whose first minor the spec states, with their §2.2 number. */
const SPEC_IOCTLS: readonly { name: KfdIoctlName; nr: number; since: number; quote: string }[] = [
  { name: 'AMDKFD_IOC_SMI_EVENTS', nr: 0x1f, since: 3, quote: '| 1.3 | SMI events |' },
  { name: 'AMDKFD_IOC_SVM', nr: 0x20, since: 5, quote: '| 1.5 | SVM API |' },
  { name: 'AMDKFD_IOC_CRIU_OP', nr: 0x22, since: 7, quote: '| **1.7** | **Checkpoint Restore (CRIU) API** |' },
  { name: 'AMDKFD_IOC_AVAILABLE_MEMORY', nr: 0x23, since: 9, quote: '| 1.9 | available memory ioctl |' },
  { name: 'AMDKFD_IOC_EXPORT_DMABUF', nr: 0x24, since: 12, quote: '| 1.12 | DMA buf export ioctl |' },
  {
    name: 'AMDKFD_IOC_CREATE_PROCESS',
    nr: 0x27,
    since: 19,
    // §2.2 also: "| 0x27 | AMDKFD_IOC_CREATE_PROCESS (≥1.19) | IO |"
    quote: '| 1.19 | new ioctl to create secondary kfd processes (`AMDKFD_IOC_CREATE_PROCESS`, `AMDKFD_IO(0x27)`) |',
  },
];

/** Constants whose first minor the spec states. */
const SPEC_CONSTANTS: readonly { name: string; since: number; quote: string }[] = [
  {
    name: 'KFD_IOC_ALLOC_MEM_FLAGS_CONTIGUOUS',
    since: 16,
    // §2.1: "| 1.16 | contiguous VRAM allocation flag |"
    quote: '§2.3: | KFD_IOC_ALLOC_MEM_FLAGS_CONTIGUOUS | 1<<23 | contiguous VRAM (1.16; …) |',
  },
  {
    name: 'KFD_IOC_QUEUE_TYPE_SDMA_BY_ENG_ID',
    since: 17,
    // §2.1: "| 1.17 | SDMA queue creation with target SDMA engine ID |"
    quote: '§2.4: /* queue_type: COMPUTE 0x0, SDMA 0x1, COMPUTE_AQL 0x2, SDMA_XGMI 0x3, SDMA_BY_ENG_ID (1.17) */',
  },
];

const fieldNames = (struct: string, minor: number): string[] =>
  (kfdStructAt(struct, minor)?.fields ?? []).map((f) => f.name);

describe('KFD ioctl interface versions (spec §2.1)', () => {
  test('spec §2.1: GET_VERSION reports major 1 and a minor of the version history that the plugin accepts', () => {
    const h = new Harness();
    const { kfd } = h.setupProcess(APP);
    const r = h.ioctl(APP, 'GET_VERSION', {}, kfd);
    expect(r.ret).toBe(0);
    // "### 2.1 Version history (KFD_IOCTL_MAJOR_VERSION = 1)"
    expect(r.out.major_version).toBe(1);
    const minor = r.out.minor_version as number;
    // The spec names no single minor as the modelled one: only that it is one of the §2.1 table…
    expect(SPEC_MINORS).toContain(minor);
    // …and, as CRIU dumps work, one the plugin takes: "The CRIU plugin requires `major == 1 && minor >= 8`"
    expect(minor).toBeGreaterThanOrEqual(8);
    // An ioctl the model implements must exist at the minor it reports (since minors as dated above).
    const implemented = new Set(allCalls().map((c) => c.name));
    const used = SPEC_IOCTLS.filter((i) => implemented.has(i.name));
    expect(used.map((i) => i.name)).toContain('AMDKFD_IOC_CRIU_OP');
    for (const i of used) expect([i.name, minor >= i.since]).toEqual([i.name, true]);
  });

  test.each(SPEC_IOCTLS)('spec §2.1: $name (nr $nr) first appears in KFD 1.$since', ({ name, nr, since }) => {
    const e = AMDKFD_IOCTLS[name];
    expect([e.nr, e.sinceMinor]).toEqual([nr, since]);
    expect(KFD_CONSTANT_SINCE[name]).toBe(since);
  });

  test.each(SPEC_CONSTANTS)('spec §2.1: $name first appears in KFD 1.$since', ({ name, since }) => {
    expect(KFD_CONSTANT_SINCE[name]).toBe(since);
  });

  test('spec §2.1: create_queue_args gains sdma_engine_id at 1.17', () => {
    // "| 1.17 | SDMA queue creation with target SDMA engine ID |";
    // §2.4: "/* recent kernels (1.17): + __u32 sdma_engine_id (used by kfd_chardev.c) … */"
    expect(fieldNames('kfd_ioctl_create_queue_args', 16)).not.toContain('sdma_engine_id');
    expect(fieldNames('kfd_ioctl_create_queue_args', 17)).toContain('sdma_engine_id');
  });

  test('spec §2.1: set_memory_policy_args.pad is renamed misc_process_flag at 1.18, same slot', () => {
    // "| 1.18 | rename pad in set_memory_policy_args to misc_process_flag |"
    const before = kfdStructAt('kfd_ioctl_set_memory_policy_args', 17)!;
    const after = kfdStructAt('kfd_ioctl_set_memory_policy_args', 18)!;
    const last = (s: typeof before) => {
      const f = s.fields.at(-1)!;
      return [f.name, f.offset, f.size];
    };
    expect(last(before)).toEqual(['pad', 28, 4]);
    expect(last(after)).toEqual(['misc_process_flag', 28, 4]);
    expect(after.size).toBe(before.size);
  });

  test('spec §2.1: kfd_event_data changes at 1.14', () => {
    // "| 1.14 | update kfd_event_data |" — the spec does not say how, so only *that* it changes there.
    expect(kfdStructAt('kfd_event_data', 14)).not.toEqual(kfdStructAt('kfd_event_data', 13));
  });

  test('spec §2.1: below 1.11, AMDKFD_COMMAND_END excludes each dated ioctl before its minor and includes it from then on', () => {
    // §2.2: "`AMDKFD_COMMAND_START 0x01`, `AMDKFD_COMMAND_END 0x27` at 1.15": END is one past the last nr.
    const early = SPEC_IOCTLS.filter((i) => i.since <= 10);
    expect(early.map((i) => i.name)).toEqual([
      'AMDKFD_IOC_SMI_EVENTS',
      'AMDKFD_IOC_SVM',
      'AMDKFD_IOC_CRIU_OP',
      'AMDKFD_IOC_AVAILABLE_MEMORY',
    ]);
    for (const { name, nr, since } of early) {
      for (let m = 1; m <= 10; m++) {
        const inside = nr < kfdCommandEnd(m);
        expect([name, m, inside]).toEqual([name, m, m >= since]);
        if (m >= since) expect(() => kfdIoctlRequest(name, m)).not.toThrow();
        else expect(() => kfdIoctlRequest(name, m)).toThrow(RangeError);
      }
    }
  });
});

describe('CRIU plugin minimum KFD version (spec §9.4)', () => {
  test('spec §9.4: kernel_supports_criu needs KFD ≥ 1.8', () => {
    // §9.4 d: "`kernel_supports_criu(-1)` opens **its own** `/dev/kfd` for GET_VERSION … → ≥1.8 else -ENOTSUP."
    // §2.1: "The CRIU plugin requires `major == 1 && minor >= 8` (… `MIN_KFD_IOCTL_MINOR_VERSION 8` …)"
    expect(KFD_MIN).toEqual({ major: 1, minor: 8 });
  });
});
