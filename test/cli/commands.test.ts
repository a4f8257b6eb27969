/**
 * The gpucr commands of issue 4 (docs/cli.md): replay's --check, --invariant,
 * --until, --from, --snapshot, --repair; run, state, validate, repair, invariants;
 * help, colour, exit codes, determinism.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram, run } from '../../src/cli/program.js';
import { restoreSnapshot, snapshotText, worldHash } from '../../src/log/snapshot.js';
import { splitLog } from '../../src/log/split.js';
import { ensureBuilt, gpucr, ROOT, STACK, tempDir } from './helpers.js';

const ex = (name: string) => join(ROOT, 'docs/examples', name);
const DESIGN = ex('design-example.jsonl');
const RESTORE = ex('kfd-restore-resume.jsonl');
const LEAK = ex('kfd-restore-fget-leak.jsonl');
const dir = tempDir('gpucr-cmd-');
const ESC = '\u001b[';

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function noStack(r: { stderr: string }) {
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stderr).not.toContain('internal error');
}

beforeAll(() => ensureBuilt(), 180_000);

describe('every command has --help (exit 0)', () => {
  it('in-process, for each registered command', async () => {
    const names = buildProgram().commands.map((c) => c.name());
    for (const n of ['replay', 'run', 'state', 'validate', 'repair', 'invariants', 'demo', 'diagram', 'docs'])
      expect(names).toContain(n);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    try {
      for (const n of names) {
        out.length = 0;
        expect(await run(['node', 'gpucr', n, '--help']), n).toBe(0);
        expect(out.join(''), n).toContain(`Usage: gpucr ${n}`);
      }
    } finally {
      spy.mockRestore();
      process.exitCode = undefined;
    }
  });
});

describe('gpucr replay --check / --invariant', () => {
  it('exits 1 on the first invariant violation, naming the invariant, the line and the objects', () => {
    const r = gpucr(['replay', '--check', LEAK]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^${LEAK}:36: AMDKFD_IOC_CRIU_OP: invariant kfd\\.file-refs does not hold after this event \\(ret -EINVAL\\)$`,
      ),
    );
    expect(lines[1]).toMatch(/^ {2}kfd\.file-refs: file#\d+ \(drm\) has 3 references but 2 can be counted/);
    expect(r.stdout).toContain('  caller pid 200: kfd.process#');
    expect(r.stdout).toMatch(/~ file#\d+: refs 2 → 3/);
    // Without --check the same log holds: RESTORE returns the -EINVAL it asserts.
    expect(gpucr(['replay', LEAK]).code).toBe(0);
  });

  it('--invariant selects invariants by name; an unknown one is bad input', () => {
    expect(gpucr(['replay', '--invariant', 'kfd.vram-usage', LEAK]).code).toBe(0);
    expect(gpucr(['replay', '--invariant', 'kfd.vram-usage', '--invariant', 'kfd.file-refs', LEAK]).code).toBe(1);
    const bad = gpucr(['replay', '--invariant', 'kfd.nope', DESIGN]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^--invariant: expected one of .*kfd\.file-refs.*, found "kfd\.nope"\n$/);
    noStack(bad);
  });

  it('--json is byte-identical on every run, with the violation and the objects involved', () => {
    const a = gpucr(['replay', '--json', '--check', LEAK]);
    const b = gpucr(['replay', '--check', '--json', LEAK]);
    expect(a.code).toBe(1);
    expect(a.stdout).toBe(b.stdout);
    const rep = JSON.parse(a.stdout) as {
      ok: boolean;
      checked: string[];
      violation: { line: number; violations: { invariant: string }[]; involved: { changed: { id: string }[] } };
    };
    expect(rep.ok).toBe(false);
    expect(rep.checked).toContain('kfd.file-refs');
    expect(rep.violation.line).toBe(36);
    expect(rep.violation.violations[0]!.invariant).toBe('kfd.file-refs');
    expect(rep.violation.involved.changed.length).toBeGreaterThan(0);
  });

  it('--check-every n: the report of --check (plus check_every), a summary that says so, and n ≥ 1', () => {
    const every = gpucr(['replay', '--json', '--check-every', '10', LEAK]);
    expect(every.code).toBe(1);
    const { check_every, ...rest } = JSON.parse(every.stdout) as Record<string, unknown>;
    expect(check_every).toBe(10);
    expect(rest).toEqual(JSON.parse(gpucr(['replay', '--json', '--check', LEAK]).stdout));
    const held = gpucr(['replay', '--check-every', '2', DESIGN]);
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(
      /: 5 events replayed, every assertion held, and every invariant after every 2nd event and the last\n$/,
    );
    for (const bad of ['0', '-3', 'ten', '1.5']) {
      const r = gpucr(['replay', '--check-every', bad, DESIGN]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain("option '--check-every <n>' argument");
      expect(r.stderr, bad).toContain('expected a number of events (1, 2, …)');
      noStack(r);
    }
  });
});

describe('gpucr replay --until / --snapshot / --from', () => {
  it('--until stops after a line and prints the world', () => {
    const r = gpucr(['replay', '--until', '4', DESIGN]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`${DESIGN}: 3 events replayed up to line 4, every assertion held`);
    expect(r.stdout).toMatch(/^world sha256:[0-9a-f]{64}$/m);
    expect(r.stdout).toMatch(/^process 100 {2}alive/m);
    expect(r.stdout).toMatch(/kfd\.pdd#\d+ {2}alive\(vm\.vmAcquired, queues\.running\)/);
    // Line 5's ALLOC has not happened.
    expect(r.stdout).not.toMatch(/va=0x7f0000000000/);
    const j = gpucr(['replay', '--json', '--until', '4', DESIGN]);
    const rep = JSON.parse(j.stdout) as {
      until: number;
      last_line: number;
      state: { hash: string };
      world: { hash: string };
    };
    expect(rep.until).toBe(4);
    expect(rep.last_line).toBe(4);
    expect(rep.state.hash).toBe(rep.world.hash);
    expect(gpucr(['replay', '--until', 'x', DESIGN]).code).toBe(2);
  });

  it('a tail replayed --from the snapshot of its prefix ends in the world a full replay ends in', () => {
    const full = JSON.parse(gpucr(['replay', '--json', RESTORE]).stdout) as { world: { hash: string } };
    const snap = join(dir, 'prefix.json');
    const pre = gpucr(['replay', '--until', '33', '--snapshot', snap, RESTORE]);
    expect(pre.code).toBe(0);
    const split = splitLog(readFileSync(RESTORE, 'utf8'), 33);
    // The snapshot the CLI wrote is the one the library computes for the same prefix.
    expect(worldHash(restoreSnapshot(readFileSync(snap, 'utf8')))).toBe(split.hash);
    const tail = file('tail.jsonl', split.tail);
    const r = gpucr(['replay', '--json', '--check', '--from', snap, tail]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { world: { hash: string } }).world.hash).toBe(full.world.hash);
    // Without the snapshot the tail is bad input.
    const no = gpucr(['replay', tail]);
    expect(no.code).toBe(2);
    expect(no.stderr).toMatch(/^.*tail\.jsonl:1:1: snapshot: expected --from <the snapshot of world sha256:/);
    noStack(no);
  });

  it('a snapshot that is not one is bad input; --snapshot is not written when the replay fails', () => {
    const bad = file('bad-snap.json', '{"format":"gpucr-snapshot","version":4}');
    const r = gpucr(['replay', '--from', bad, DESIGN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-snap\.json\.hash: expected sha256:<64 hex digits>, found nothing/);
    noStack(r);
    const missing = gpucr(['replay', '--from', join(dir, 'none.json'), DESIGN]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/none\.json: expected a readable snapshot file, found "ENOENT"/);
    const out = join(dir, 'never.json');
    expect(gpucr(['replay', '--check', '--snapshot', out, LEAK]).code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });
});

describe('gpucr replay --from a hand-edited snapshot (hash recomputed)', () => {
  const ROUNDTRIP = ex('criu-roundtrip.jsonl');
  /** The snapshot after line 20 with `edit` applied to one GEM object's context, and the tail naming it. */
  function editedSplit(name: string, edit: (gemContext: Record<string, unknown>) => void): [string, string] {
    const split = splitLog(readFileSync(ROUNDTRIP, 'utf8'), 20);
    const world = restoreSnapshot(split.snapshot);
    const gem = Object.values(world.objects).find(
      (o) => o.kind === 'amdgpu.gem_bo' && (o.context as { kgd_mems: string[] }).kgd_mems.length > 0,
    )!;
    edit(gem.context as Record<string, unknown>);
    const text = snapshotText(world);
    const tail = split.tail.replace(/"snapshot":"sha256:[0-9a-f]+"/, `"snapshot":"${worldHash(world)}"`);
    return [file(`${name}.json`, text), file(`${name}.jsonl`, tail)];
  }

  it('a context of the wrong shape is refused at its field before anything is replayed', () => {
    const [snap, tail] = editedSplit('shape', (c) => (c.size = 4096));
    const r = gpucr(['replay', '--from', snap, tail]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /shape\.json\.world\.objects\.amdgpu\.gem_bo#\d+\.context\.size: expected a "0x…" integer, found 4096/,
    );
    noStack(r);
  });

  it('a context that disagrees with another object stops the replay on the line that meets it, as bad input', () => {
    // The GEM object no longer lists the kgd_mem that holds it; the process's exit drops that reference.
    const [snap, tail] = editedSplit('disagree', (c) => (c.kgd_mems = []));
    const r = gpucr(['replay', '--from', snap, tail]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /disagree\.jsonl:\d+: the --from snapshot's world cannot take exit: applying or checking it failed inside gpucr \(amdgpu\.gem_bo#\d+ in state .* refuses KFD_UNREF\)\. .*was it edited\?/,
    );
    noStack(r);
  });
});

describe('gpucr run', () => {
  it('records every event with its result; the recording replays with every assertion and invariant holding', () => {
    const script = file(
      'script.jsonl',
      `${readFileSync(DESIGN, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l, i) => (i === 0 ? l : l.replace(/,"ret":.*\}$/, '}')))
        .join('\n')}\n`,
    );
    const out = join(dir, 'recorded.jsonl');
    const r = gpucr(['run', script, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${script}: 5 events applied (0 returned an errno), recorded to ${out}\n`);
    const rec = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(rec.length).toBe(6);
    for (const l of rec.slice(1))
      expect(Object.keys(JSON.parse(l) as object)).toEqual(expect.arrayContaining(['ret', 'out']));
    expect(gpucr(['replay', '--check', out]).code).toBe(0);
    // The same script records the same bytes.
    const out2 = join(dir, 'recorded2.jsonl');
    gpucr(['run', script, '-o', out2]);
    expect(readFileSync(out2, 'utf8')).toBe(readFileSync(out, 'utf8'));
  });

  it('docs/log-format.md "Orchestration events": a criu.dump or criu.restore is written as a log writes it, its issued calls as lines with `by`', () => {
    // The round-trip example without its `by` lines and results: what a user writes.
    const example = readFileSync(ex('criu-roundtrip.jsonl'), 'utf8').trimEnd().split('\n');
    const parsed = example.slice(1).map((l) => JSON.parse(l) as Record<string, unknown>);
    const script = file(
      'criu-script.jsonl',
      `${[
        example[0],
        ...parsed.filter((o) => o.by === undefined).map(({ ret: _r, out: _o, ...rest }) => JSON.stringify(rest)),
      ].join('\n')}\n`,
    );
    const out = join(dir, 'criu-recorded.jsonl');
    expect(gpucr(['run', script, '-o', out]).code).toBe(0);
    const rec = readFileSync(out, 'utf8').trimEnd().split('\n');
    // line for line the example's shape: the same calls, the same `by`, the same results
    const shape = (o: Record<string, unknown>) => [o.call, o.pid, o.by, o.ret];
    expect(rec.slice(1).map((l) => shape(JSON.parse(l) as Record<string, unknown>))).toEqual(parsed.map(shape));
    expect(rec.some((l) => l.includes('"issued"'))).toBe(false);
    expect(gpucr(['replay', '--check', out]).code).toBe(0);
    // Run again, the recording (with its `by` lines) records the same bytes.
    const again = join(dir, 'criu-recorded2.jsonl');
    expect(gpucr(['run', out, '-o', again]).code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(out, 'utf8'));
  });

  it('ignores assertions, and leaves the output as it was on bad input', () => {
    const out = join(dir, 'kept.jsonl');
    writeFileSync(out, 'precious\n');
    const bad = file('bad-script.jsonl', `${readFileSync(DESIGN, 'utf8')}{"pid":1,"call":"nope"}\n`);
    const r = gpucr(['run', bad, '-o', out]);
    expect(r.code).toBe(2);
    noStack(r);
    expect(readFileSync(out, 'utf8')).toBe('precious\n');
    // A script whose assertions are wrong still runs: run does not check them.
    expect(gpucr(['run', LEAK, '-o', out]).code).toBe(0);
    expect(gpucr(['run', DESIGN]).code).toBe(2); // -o is required
  });
});

describe('gpucr state, validate, repair, invariants', () => {
  it('state prints the final world; --json is a snapshot with the hash replay reports; --pid narrows it', () => {
    const human = gpucr(['state', RESTORE]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^process 200 {2}alive/m);
    expect(human.stdout).toMatch(/kfd\.process#\d+ {2}alive\(criu\.running, mmu\.notifying\)/);
    const json = gpucr(['state', '--json', RESTORE]);
    expect(json.stdout).toBe(gpucr(['state', '--json', RESTORE]).stdout);
    const world = restoreSnapshot(json.stdout);
    // A pdd's handles live beside it in the world (docs/world.md); its line shows them.
    const pddLines = human.stdout.split('\n').filter((l) => /^ {2}kfd\.pdd#\d+/.test(l));
    expect(pddLines.length).toBeGreaterThan(0);
    let shown = 0;
    for (const line of pddLines) {
      const pddId = /kfd\.pdd#\d+/.exec(line)![0];
      const handles = Object.entries(world.alloc_idr?.[pddId] ?? {}).map(([h, b]) => `${h}:${b}`);
      expect(line).toContain(` alloc_idr={${handles.join(',')}}`);
      shown += handles.length;
    }
    expect(shown).toBeGreaterThan(0);
    const rep = JSON.parse(gpucr(['replay', '--json', RESTORE]).stdout) as { world: { hash: string } };
    expect(worldHash(world)).toBe(rep.world.hash);
    const one = gpucr(['state', '--pid', '200', RESTORE]);
    expect(one.stdout).toMatch(/^process 200/m);
    expect(one.stdout).not.toMatch(/^process 100/m);
    const oneJson = JSON.parse(gpucr(['state', '--json', '--pid', '200', RESTORE]).stdout) as {
      pid: number;
      process: { task: { pid: number } };
    };
    expect(oneJson.pid).toBe(200);
    expect(oneJson.process.task.pid).toBe(200);
    expect(gpucr(['state', '--pid', '0', RESTORE]).code).toBe(2);
  });

  it('validate checks the format only', () => {
    const ok = gpucr(['validate', LEAK]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${LEAK}: valid, 36 lines (a header and 35 events)\n`);
    expect(JSON.parse(gpucr(['validate', '--json', DESIGN]).stdout)).toEqual({
      file: DESIGN,
      ok: true,
      lines: 6,
      events: 5,
    });
    const bad = gpucr(['validate', file('v-bad.jsonl', '{"gpucr":1,"topology":{"gpus":[]}}\n{"call":"open"}\n')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /v-bad\.jsonl:2:1: pid: expected a pid \(open is issued by a process\), found nothing\n$/,
    );
  });

  it('a torn log is exit 2 for replay; repair (or replay --repair) cuts the torn line and keeps the rest', () => {
    const text = readFileSync(DESIGN, 'utf8');
    const torn = file('torn.jsonl', `${text}{"pid":100,"call":"cl`);
    const r = gpucr(['replay', torn]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${torn}:7: torn last record (no newline at its end; \`gpucr repair ${torn}\` removes it)\n`);
    const fix = gpucr(['repair', torn]);
    expect(fix.code).toBe(0);
    expect(fix.stdout).toBe(`${torn}: removed the torn line 7 (21 bytes); 6 complete lines kept\n`);
    expect(readFileSync(torn, 'utf8')).toBe(text);
    expect(gpucr(['repair', torn]).stdout).toBe(`${torn}: no torn record; 6 lines\n`);
    const torn2 = file('torn2.jsonl', `${text}{"pid":`);
    const again = gpucr(['replay', '--repair', torn2]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`${torn2}: removed the torn line 7 (7 bytes)\n`);
  });

  it('invariants lists every invariant with its description', () => {
    const r = gpucr(['invariants']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kfd\.file-refs\n {2}\S/m);
    const list = JSON.parse(gpucr(['invariants', '--json']).stdout) as { name: string; description: string }[];
    expect(list.map((i) => i.name)).toContain('kfd.vram-usage');
  });
});

describe('colour and progress', () => {
  it('no colour when stdout is not a terminal, colour with FORCE_COLOR, none with NO_COLOR', () => {
    const plain = gpucr(['replay', '--check', LEAK]);
    expect(plain.stdout).not.toContain(ESC);
    const forced = gpucr(['replay', '--check', LEAK], { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(ESC);
    // Stripped of its escapes, the coloured text is the plain text.
    expect(forced.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toBe(plain.stdout);
    expect(gpucr(['replay', '--check', LEAK], { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout).not.toContain(ESC);
    // Tools' output is never coloured.
    expect(gpucr(['replay', '--json', DESIGN], { FORCE_COLOR: '1' }).stdout).not.toContain(ESC);
  });

  it('no progress bar when stderr is not a terminal', () => {
    const r = gpucr(['replay', '--check', RESTORE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
