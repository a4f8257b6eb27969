import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const EXAMPLE = join(ROOT, 'test/fixtures/design-example.jsonl');
const LINES = readFileSync(EXAMPLE, 'utf8').trimEnd().split('\n');
const dir = mkdtempSync(join(tmpdir(), 'gpucr-cli-'));

function gpucr(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
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

const STACK = /^\s+at /m;

beforeAll(() => {
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
  } catch (e) {
    // tsc emits even when another part of the tree does not type-check yet; the
    // type check of the whole project is `npm test`'s job, not this suite's.
    if (!existsSync(MAIN)) throw e;
  }
}, 180_000);

describe('gpucr replay', () => {
  it('exits 0 on the design example', () => {
    const r = gpucr('replay', EXAMPLE);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${EXAMPLE}: 5 events replayed, every assertion held\n`);
  });

  it('exits 1 on a wrong ret, naming the line', () => {
    const path = logFile('wrong-ret.jsonl', withLine(4, LINES[3]!.replace('"ret":0', '"ret":-22')));
    const r = gpucr('replay', path);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${path}:4: AMDKFD_IOC_ACQUIRE_VM: expected ret -EINVAL, got ret 0 out {}\n`);
    expect(r.stderr).toBe('');
  });

  it('prints u64 values as 0x hex and errno names', () => {
    const path = logFile('wrong-out.jsonl', withLine(5, LINES[4]!.replace('"ret":0', '"ret":0,"out":{"handle":1}')));
    const r = gpucr('replay', path);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^.*:5: AMDKFD_IOC_ALLOC_MEMORY_OF_GPU: expected ret 0 out \{"handle":"0x1"\}, got ret 0 out \{"handle":"0xa3ee00000000","mmap_offset":"0x[0-9a-f]+"\}\n$/,
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
      ['replay', logFile('json.jsonl', [LINES[0]!, '{"pid":100,'])],
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
    expect(help.stdout).toContain('Exit codes: 0 every assertion held, 1 first divergence, 2 bad input');
  });

  it('the bin starts with a shebang', () => {
    expect(readFileSync(MAIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

describe('gpucr internal errors', () => {
  it('an exception that is not bad input exits 70 with "gpucr: internal error:" and the stack', async () => {
    vi.resetModules();
    vi.doMock('../../src/log/replay.js', () => ({
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
