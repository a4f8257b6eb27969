/**
 * describeModel (src/mbt/describe-model.ts, the `gpucr/vitest` subpath): the tests it
 * generates for a hand-made door machine with a toy system, that a wrong system makes
 * them fail (run in a child vitest on test/fixtures/describe-model-failing.fixture.ts,
 * so the failures do not fail this run), and that it drives a real machine — kfd_queue
 * through gpucr's own handler layer, written as a user of the public API would.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunnerTestSuite } from 'vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  callDef,
  createWorld,
  decodeArgs,
  inState,
  machines,
  parseTopology,
  step,
  type World,
} from '../../src/index.js';
import { describeModel } from '../../src/mbt/describe-model.js';
import { ensureBuilt } from '../cli/helpers.js';
import { CounterDoor, doorAdapter, doorMachine } from '../fixtures/describe-model-door.fixture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ---------------------------------------------------------------------------------------
// (a) one test per path, on the door machine
// ---------------------------------------------------------------------------------------

const doors: CounterDoor[] = [];
const doorPlan = describeModel(
  doorMachine,
  doorAdapter(() => {
    const d = new CounterDoor();
    doors.push(d);
    return d;
  }),
  { name: 'door model', coverage: true },
);

/**
 * Worked out by hand from the door machine (test/fixtures/describe-model-door.fixture.ts):
 * a shortest path to every (state, transition that reached it) — closed; OPEN → opened;
 * LOCK → locked; OPEN, CLOSE → closed; LOCK, UNLOCK → closed; OPEN, KNOCK → opened (the
 * targetless KNOCK counts) — less the paths contained in a longer one.
 */
const DOOR_PATHS = [
  'closed --LOCK--> locked --UNLOCK--> closed',
  'closed --OPEN--> opened --CLOSE--> closed',
  'closed --OPEN--> opened --KNOCK--> opened',
];

const perState = describeModel(
  doorMachine,
  doorAdapter(() => new CounterDoor()),
  {
    name: 'door model, one vertex per state',
    distinguishTransitions: false,
  },
);

describe('describeModel on a hand-made machine', () => {
  it('generates one test per path, plus the coverage test', ({ task }) => {
    const block = task.file.tasks.find((t) => t.name === 'door model') as RunnerTestSuite | undefined;
    expect(block).toBeDefined();
    const names = block!.tasks.map((t) => t.name);
    expect(names).toHaveLength(DOOR_PATHS.length + 1);
    expect(
      names
        .slice(0, -1)
        .map((n) => n.replace(/^path \d+\/\d+: /, ''))
        .sort(),
    ).toEqual(DOOR_PATHS);
    expect(names.at(-1)).toBe('the paths cover every state and transition of door');
    expect(doorPlan.paths.map((p) => p.text).sort()).toEqual(DOOR_PATHS);
  });

  it('ran each path on a fresh system and tore it down (runs after the door block)', () => {
    // Declared after the door block, so vitest ran that block first.
    expect(doors).toHaveLength(DOOR_PATHS.length);
    expect(doors.every((d) => d.tornDown)).toBe(true);
    // The KNOCK path knocked once; the others not at all.
    expect(doors.map((d) => d.knocks).sort()).toEqual([0, 0, 1]);
  });

  it('refuses a state check for a state the machine does not have (a typo would never run)', () => {
    const adapter = { ...doorAdapter(() => new CounterDoor()), states: { lockd: () => {} } };
    expect(() => describeModel(doorMachine, adapter)).toThrow(/"lockd", which is not a state of the machine/);
  });

  it('refuses a handler for an event the machine does not have', () => {
    const base = doorAdapter(() => new CounterDoor());
    const adapter = { ...base, events: { ...base.events, SLAM: () => {} } };
    expect(() => describeModel(doorMachine, adapter)).toThrow(/"SLAM", which is not an event of the machine/);
  });

  it('with one vertex per state (distinguishTransitions: false), the paths reach every state only', () => {
    // closed; OPEN → opened; LOCK → locked; neither path is contained in the other.
    expect(perState.paths.map((p) => p.text).sort()).toEqual(['closed --LOCK--> locked', 'closed --OPEN--> opened']);
  });
});

// ---------------------------------------------------------------------------------------
// (b) a wrong system or adapter makes the generated tests fail (child vitest)
// ---------------------------------------------------------------------------------------

interface JsonAssertion {
  ancestorTitles: string[];
  title: string;
  status: string;
  failureMessages: string[];
}

function runFixture(file: string): JsonAssertion[] {
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-describe-model-'));
  try {
    const config = join(dir, 'vitest.config.mjs');
    const out = join(dir, 'report.json');
    // A config of its own: the project's config includes only *.test.ts.
    writeFileSync(config, `export default { test: { include: [${JSON.stringify(file)}], testTimeout: 60000 } };\n`);
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--root',
        ROOT,
        '--config',
        config,
        '--reporter=json',
        `--outputFile=${out}`,
      ],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } },
    );
    let report: { testResults: { assertionResults: JsonAssertion[] }[] };
    try {
      report = JSON.parse(readFileSync(out, 'utf8')) as typeof report;
    } catch {
      throw new Error(`the child vitest wrote no report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    return report.testResults.flatMap((t) => t.assertionResults);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('describeModel fails the generated test when the system or the adapter is wrong', () => {
  let results: JsonAssertion[] = [];
  beforeAll(() => {
    results = runFixture('test/fixtures/describe-model-failing.fixture.ts');
  }, 120_000);
  const block = (name: string) => results.filter((r) => r.ancestorTitles[0] === name);

  it('a failing state check fails exactly the path through that state, naming the check and the step', () => {
    const tests = block('broken lock');
    const paths = tests.filter((t) => t.title.startsWith('path '));
    expect(paths.map((t) => t.title.replace(/^path \d+\/\d+: /, '')).sort()).toEqual(DOOR_PATHS);
    for (const t of paths) expect(t.status, t.title).toBe(t.title.includes('LOCK') ? 'failed' : 'passed');
    const failed = paths.find((t) => t.status === 'failed')!;
    expect(failed.failureMessages.join('\n')).toContain('state check "locked" at closed --LOCK--> locked');
  });

  it('the coverage test fails when a path failed (its transitions were not covered)', () => {
    const cov = block('broken lock').find((t) => t.title.startsWith('the paths cover'));
    expect(cov?.status).toBe('failed');
    // The state and the transitions only the failed path takes (coverage ids: state path, source|EVENT|index).
    expect(cov!.failureMessages.join('\n')).toContain(
      'not covered by a passing path: locked, closed|LOCK|0, locked|UNLOCK|0',
    );
  });

  it('an event without a handler fails the path that has it, naming the event', () => {
    const tests = block('no KNOCK handler');
    expect(tests).toHaveLength(DOOR_PATHS.length);
    for (const t of tests) expect(t.status, t.title).toBe(t.title.includes('KNOCK') ? 'failed' : 'passed');
    const failed = tests.find((t) => t.status === 'failed')!;
    expect(failed.failureMessages.join('\n')).toContain('the adapter has no handler for event KNOCK');
  });
});

// ---------------------------------------------------------------------------------------
// kfd_queue through gpucr's handler layer, as a user of the public API would write it
// ---------------------------------------------------------------------------------------

const GPU = 0xa3e1;
const APP = 100;
const CRIU = 99;

/** A "driver" for describeModel: one application with one COMPUTE_AQL queue, CRIU as its ptrace parent. */
class QueueDriver {
  world: World;
  readonly queue: string;

  constructor() {
    this.world = createWorld(
      parseTopology({ page_size: 4096, gpus: [{ gpu_id: GPU, render_minor: 128 }] }, [
        { pid: APP, ptrace_parent: CRIU },
      ]),
    );
    this.call(APP, 'open', { path: '/dev/kfd' }); // fd 3
    this.call(APP, 'open', { path: '/dev/dri/renderD128' }); // fd 4
    this.call(APP, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 4, gpu_id: GPU }, 3);
    const out = this.call(
      APP,
      'AMDKFD_IOC_CREATE_QUEUE',
      {
        gpu_id: GPU,
        queue_type: 'COMPUTE_AQL',
        queue_percentage: 100,
        queue_priority: 7,
        ring_base_address: 0x7f0005000000n,
        ring_size: 65536,
        read_pointer_address: 0x7ffd10000000n,
        write_pointer_address: 0x7ffd10000008n,
      },
      3,
    );
    this.queue = this.world.tasks[APP]!.queues[out.queue_id as number]!;
  }

  /** Issue a call with log-style args; every call of these paths must succeed. */
  call(pid: number, name: string, args: Record<string, unknown>, fd?: number | { pid: number; fd: number }) {
    const r = step(this.world, {
      pid,
      call: name,
      ...(fd === undefined ? {} : { fd }),
      args: decodeArgs(callDef(name)!.args, args, name),
    });
    this.world = r.world;
    expect(r.ret, `${name} ${JSON.stringify(args, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v))}`).toBe(0);
    return r.out;
  }

  /** CRIU_OP by CRIU on the application's /dev/kfd fd (spec §4). */
  criu(op: string) {
    this.call(CRIU, 'AMDKFD_IOC_CRIU_OP', { op }, { pid: APP, fd: 3 });
  }
}

describe('spec §5.1, §5.3, §7.2: describeModel drives kfd_queue through the handler layer', () => {
  const plan = describeModel(
    machines.queueMachine,
    {
      setup: () => new QueueDriver(),
      events: {
        // The first PROCESS_INFO evicts the process's queues (§5.1, §6.1); UNPAUSE restores them (§5.3).
        EVICT: (d) => d.criu('PROCESS_INFO'),
        RESTORE: (d) => d.criu('UNPAUSE'),
        DESTROY: (d) => {
          d.call(APP, 'AMDKFD_IOC_DESTROY_QUEUE', { queue_id: 0 }, 3);
        },
      },
      states: {
        active: (d) => expect(inState(d.world, d.queue, 'active')).toBe(true),
        evicted: (d) => expect(inState(d.world, d.queue, 'evicted')).toBe(true),
        destroyed: (d) => {
          expect(d.world.objects[d.queue]).toBeUndefined();
          expect(d.world.tasks[APP]!.queues[0]).toBeUndefined();
        },
      },
    },
    // A live queue takes the GWS only through RESTORE (§5.4): SET_GWS is not offered.
    { name: 'kfd_queue via step()', events: [{ type: 'EVICT' }, { type: 'RESTORE' }, { type: 'DESTROY' }] },
  );

  it('has paths through every state of the queue (active, evicted, destroyed)', () => {
    const reached = new Set(plan.paths.flatMap((p) => p.snapshots.map((s) => String(s.value))));
    expect([...reached].sort()).toEqual(['active', 'destroyed', 'evicted']);
  });
});

// ---------------------------------------------------------------------------------------
// packaging: describeModel is the `gpucr/vitest` subpath; the main entry point needs no vitest
// ---------------------------------------------------------------------------------------

describe('packaging', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  /** Run an ESM snippet in the repository with a resolve hook that refuses to load vitest. */
  function withoutVitest(code: string) {
    const hook = `export async function resolve(s, c, next) { if (s === 'vitest' || s.startsWith('vitest/')) throw new Error('vitest imported by ' + c.parentURL); return next(s, c); }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    return spawnSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', code],
      { cwd: ROOT, encoding: 'utf8' },
    );
  }

  it('the main entry point (gpucr) and the paths command load without vitest', () => {
    const r = withoutVitest(
      "const m = await import('gpucr'); await import('./dist/src/cli/paths.js'); console.log(typeof m.step, 'describeModel' in m);",
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function false');
  });

  it('gpucr/vitest is describeModel (and it is the module that needs vitest)', () => {
    const blocked = withoutVitest("await import('gpucr/vitest');");
    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toContain('vitest imported by');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; import: string }>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
    };
    expect(pkg.exports['./vitest']).toEqual({
      types: './dist/src/mbt/describe-model.d.ts',
      import: './dist/src/mbt/describe-model.js',
    });
    expect(pkg.peerDependencies.vitest).toBe('>=3');
    expect(pkg.peerDependenciesMeta.vitest).toEqual({ optional: true });
  });
});
