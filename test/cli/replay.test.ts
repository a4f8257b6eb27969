import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, MAIN, ROOT, STACK, gpucr as run, tempDir } from './helpers.js';

const EXAMPLE = join(ROOT, 'test/fixtures/design-example.jsonl');
const LINES = readFileSync(EXAMPLE, 'utf8').trimEnd().split('\n');
const dir = tempDir('gpucr-cli-');

function gpucr(...args: string[]) {
  return run(args);
}

function logFile(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function withLine(n: number, text: string): string[] {
  const lines = [...LINES];
  lines[n - 1] = text;
  return lines;
}

beforeAll(() => ensureBuilt(), 180_000);

describe('gpucr replay', () => {
  it('exits 0 on the design example', () => {
    const r = gpucr('replay', EXAMPLE);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${EXAMPLE}: 5 events replayed, every assertion held\n`);
  });

  it('exits 1 on a wrong ret, naming the line, the caller and what the event changed', () => {
    const path = logFile('wrong-ret.jsonl', withLine(4, LINES[3]!.replace('"ret":0', '"ret":-22')));
    const r = gpucr('replay', path);
    expect(r.code).toBe(1);
    const out = r.stdout.split('\n');
    expect(out[0]).toBe(`${path}:4: AMDKFD_IOC_ACQUIRE_VM: expected ret -EINVAL, got ret 0 out {}`);
    // The caller's kfd process, then every object the ACQUIRE_VM changed: the pdd got
    // its VM (spec §7.2), the render-node file a reference, and the kernel BOs appeared.
    expect(out[1]).toMatch(/^ {2}caller pid 100: kfd\.process#\d+ {2}alive\(criu\.running, mmu\.notifying\)/);
    expect(out[2]).toBe('  changed by line 4:');
    expect(r.stdout).toMatch(
      /~ kfd\.pdd#\d+: state alive\(vm\.noVm, queues\.running\) → alive\(vm\.vmAcquired, queues\.running\); drm_file null → file#2/,
    );
    expect(r.stdout).toMatch(/\+ kfd\.bo#\d+ created: /);
    expect(r.stdout).toMatch(/~ file#2: compute_vm_pid null → 100; refs 1 → 2/);
    expect(r.stderr).toBe('');
  });

  it('prints u64 values as 0x hex and errno names', () => {
    const path = logFile('wrong-out.jsonl', withLine(5, LINES[4]!.replace('"ret":0', '"ret":0,"out":{"handle":1}')));
    const r = gpucr('replay', path);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^.*:5: AMDKFD_IOC_ALLOC_MEMORY_OF_GPU: expected ret 0 out \{"handle":"0x1"\}, got ret 0 out \{"handle":"0xa3ee00000000","mmap_offset":"0x[0-9a-f]+"\}\n/,
    );
    expect(r.stdout.startsWith(`${path}:5: `)).toBe(true);
  });

  it('exits 2 on a malformed log, with file:line:column and no stack trace', () => {
    const path = logFile('bad.jsonl', withLine(5, LINES[4]!.replace('2097152', '"0xZZ"')));
    const r = gpucr('replay', path);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const col = LINES[4]!.replace('2097152', '"0xZZ"').indexOf('"0xZZ"') + 1;
    expect(r.stderr).toBe(`${path}:5:${col}: args.size: expected an unsigned 64-bit integer, found "0xZZ"\n`);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('exits 2 on bad JSON, a missing file, a directory and bad arguments, never with a stack', () => {
    const cases = [
      ['replay', logFile('json.jsonl', [LINES[0]!, '{"pid":100,', LINES[1]!])],
      ['replay', logFile('torn.jsonl', [LINES[0]!, '{"pid":100,'])],
      ['replay', join(dir, 'missing.jsonl')],
      ['replay', dir],
      ['replay', logFile('empty.jsonl', [])],
      ['replay'],
      ['replay', EXAMPLE, '--bogus'],
      ['bogus-command'],
    ];
    for (const args of cases) {
      const r = gpucr(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toBe('');
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).not.toContain('internal error');
    }
    expect(gpucr('replay', join(dir, 'json.jsonl')).stderr).toBe(
      `${join(dir, 'json.jsonl')}:2:12: JSON: expected a key in double quotes, found nothing\n`,
    );
    // The same text as the last line is a write cut short: a torn record.
    expect(gpucr('replay', join(dir, 'torn.jsonl')).stderr).toMatch(
      new RegExp(`^${join(dir, 'torn.jsonl')}:2: torn last record \\(not valid JSON: column 12: `),
    );
  });

  it('--json is machine-readable and byte-identical across runs', () => {
    const path = logFile('json-div.jsonl', withLine(6, LINES[5]!.replace('"n_success":1}', '"n_success":2}')));
    const a = gpucr('replay', '--json', path);
    const b = gpucr('replay', path, '--json');
    expect(a.code).toBe(1);
    expect(a.stdout).toBe(b.stdout);
    const rep = JSON.parse(a.stdout) as Record<string, unknown>;
    expect(rep).toMatchObject({
      ok: false,
      events: 5,
      file: path,
      divergence: {
        line: 6,
        call: 'AMDKFD_IOC_MAP_MEMORY_TO_GPU',
        expected: { ret: 0, out: { n_success: 2 } },
        actual: { ret: 0, out: { n_success: 1 } },
        mismatch: ['out.n_success'],
      },
    });
    const ok = gpucr('replay', '--json', EXAMPLE);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(gpucr('replay', '--json', EXAMPLE).stdout);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, events: 5 });
    // sorted keys at every level
    expect(ok.stdout.indexOf('"events"')).toBeLessThan(ok.stdout.indexOf('"file"'));
  });

  it('--quiet prints nothing; the exit code tells', () => {
    expect(gpucr('replay', '--quiet', EXAMPLE)).toEqual({ code: 0, stdout: '', stderr: '' });
    const path = logFile('quiet.jsonl', withLine(4, LINES[3]!.replace('"ret":0', '"ret":-22')));
    expect(gpucr('replay', '-q', path)).toEqual({ code: 1, stdout: '', stderr: '' });
  });

  it('--version and --help exit 0', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(gpucr('--version')).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const help = gpucr('replay', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: gpucr replay [options] <log>');
    expect(help.stdout).toContain(
      'Exit codes: 0 every assertion held, 1 first divergence or invariant violation, 2 bad input',
    );
  });

  it('the bin starts with a shebang', () => {
    expect(readFileSync(MAIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

describe('gpucr internal errors', () => {
  it('an exception that is not bad input exits 70 with "gpucr: internal error:" and the stack', async () => {
    vi.resetModules();
    vi.doMock('../../src/log/replay.js', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../src/log/replay.js')>()),
      replayFile: () => {
        throw new TypeError('boom');
      },
    }));
    const { run } = await import('../../src/cli/program.js');
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      written.push(String(s));
      return true;
    });
    try {
      expect(await run(['node', 'gpucr', 'replay', EXAMPLE])).toBe(70);
    } finally {
      spy.mockRestore();
      vi.doUnmock('../../src/log/replay.js');
      process.exitCode = undefined;
    }
    expect(written.join('')).toMatch(/^gpucr: internal error: TypeError: boom\n\s+at /);
  });
});
