/**
 * `gpucr paths <machine>` (src/cli/paths.ts). Runs in-process: through `run()` of
 * src/cli/program.ts once `paths` is registered there, until then through a program from
 * `buildProgram()` with `registerPaths` added and run()'s error mapping (bad input → 2).
 */
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { transition, initialTransition, type AnyMachineSnapshot } from 'xstate';
import { queueMachine } from '../../machines/kfd/queue.js';
import { registerPaths } from '../../src/cli/paths.js';
import { buildProgram, run } from '../../src/cli/program.js';
import { InputError } from '../../src/errors.js';
import { STACK } from './helpers.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function gpucr(...args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  const argv = ['node', 'gpucr', 'paths', ...args];
  let code: number;
  try {
    const program = buildProgram();
    if (program.commands.some((c) => c.name() === 'paths')) code = await run(argv);
    else {
      registerPaths(program);
      process.exitCode = undefined;
      try {
        await program.parseAsync(argv);
        code = Number(process.exitCode ?? 0);
      } catch (e) {
        if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 2;
        else if (e instanceof InputError) {
          process.stderr.write(`${e.message}\n`);
          code = 2;
        } else throw e;
      }
    }
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
  return { code, stdout, stderr };
}

afterEach(() => {
  vi.restoreAllMocks();
});

const KFD_MACHINES = ['kfd.process', 'kfd.pdd', 'kfd.bo', 'kfd.queue', 'kfd.event', 'kfd.svm_range'];

/** Split `a --E--> b --F--> c` into states and events. */
function parseLine(line: string): { states: string[]; events: string[] } {
  const parts = line.split(/ --(.+?)--> /);
  return { states: parts.filter((_, i) => i % 2 === 0), events: parts.filter((_, i) => i % 2 === 1) };
}

/** Walk a printed queue path on the machine: every arrow must be a transition it takes. */
function replayQueueLine(line: string): void {
  const { states, events } = parseLine(line);
  let snap = initialTransition(queueMachine, undefined as never)[0] as AnyMachineSnapshot;
  expect(String(snap.value), line).toBe(states[0]);
  events.forEach((type, i) => {
    snap = transition(queueMachine, snap, { type } as never)[0] as AnyMachineSnapshot;
    expect(String(snap.value), `${line}: after ${type}`).toBe(states[i + 1]);
  });
}

describe('gpucr paths', () => {
  it('spec §5.2.1, §7.2: kfd.queue prints one path per line, reaching every queue state (active, evicted, destroyed)', async () => {
    const r = await gpucr('kfd.queue');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toMatch(/^[a-z]+( --[A-Z_]+--> [a-z]+)+$/);
    // A queue is created on the hardware (active); eviction takes it off (evicted,
    // which checkpoint_mqd needs); DESTROY_QUEUE ends it.
    const states = new Set(lines.flatMap((l) => parseLine(l).states));
    expect([...states].sort()).toEqual(['active', 'destroyed', 'evicted']);
    for (const line of lines) expect(parseLine(line).states[0]).toBe('active');
    // The arrows are the machine's transitions, and every event type is taken somewhere.
    for (const line of lines) replayQueueLine(line);
    expect([...new Set(lines.flatMap((l) => parseLine(l).events))].sort()).toEqual([
      'DESTROY',
      'EVICT',
      'RESTORE',
      'SET_GWS',
    ]);
  });

  it('takes the machine names gpucr diagram takes (kfd.queue, kfd-queue, kfd_queue)', async () => {
    const a = await gpucr('kfd.queue');
    expect((await gpucr('kfd-queue')).stdout).toBe(a.stdout);
    expect((await gpucr('kfd_queue')).stdout).toBe(a.stdout);
  });

  it('--json prints the same paths with their events and states', async () => {
    const text = (await gpucr('kfd.queue')).stdout.trimEnd().split('\n');
    const r = await gpucr('kfd.queue', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      machine: string;
      id: string;
      generator: string;
      paths: { instance: string; text: string; events: { type: string }[]; states: string[] }[];
    };
    expect(j.machine).toBe('kfd.queue');
    expect(j.id).toBe('kfd_queue');
    expect(j.generator).toBe('shortest');
    expect(j.paths.map((p) => p.text)).toEqual(text);
    for (const p of j.paths) {
      expect(p.states).toEqual(parseLine(p.text).states);
      expect(p.events.map((e) => e.type)).toEqual(parseLine(p.text).events);
    }
  });

  it('--generator simple lists simple paths, still through every state', async () => {
    const r = await gpucr('kfd.queue', '--generator', 'simple');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (const line of lines) replayQueueLine(line);
    expect([...new Set(lines.flatMap((l) => parseLine(l).states))].sort()).toEqual(['active', 'destroyed', 'evicted']);
  });

  it('prints a header per instance for a machine with several sample instances (kfd.bo)', async () => {
    const r = await gpucr('kfd.bo');
    expect(r.code).toBe(0);
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('# '));
    expect(headers).toEqual(['# kfd.bo (GTT)', '# kfd.bo (userptr)']);
  });

  it('an unknown machine exits 2 naming the valid machines, without a stack', async () => {
    for (const name of ['kfd.nope', 'ttm.tt']) {
      const r = await gpucr(name);
      expect(r.code, name).toBe(2);
      expect(r.stdout).toBe('');
      for (const valid of KFD_MACHINES) expect(r.stderr, name).toContain(valid);
      expect(r.stderr).not.toMatch(STACK);
    }
  });

  it('bad --generator and --limit values exit 2', async () => {
    expect((await gpucr('kfd.queue', '--generator', 'longest')).code).toBe(2);
    expect((await gpucr('kfd.queue', '--limit', '0')).code).toBe(2);
    const small = await gpucr('kfd.queue', '--limit', '2');
    expect(small.code).toBe(2);
    expect(small.stderr).toContain('--limit');
    expect(small.stderr).not.toMatch(STACK);
  });
});
