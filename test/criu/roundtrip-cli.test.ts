/** gpucr checkpoint / restore / roundtrip (src/cli/criu.ts): exit codes and files. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { runCli } from '../cli/in-process.js';

const gpucr = (...args: string[]) => runCli(args);

const dir = mkdtempSync(join(tmpdir(), 'gpucr-criu-'));
const demo = join(dir, 'demo.jsonl');
writeFileSync(demo, `${runDemo().lines.join('\n')}\n`);

describe('gpucr checkpoint / restore / roundtrip', () => {
  it('roundtrip of the demo log: equivalent, exit 0', async () => {
    const r = await gpucr('roundtrip', demo, '--pid', '100');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^equivalent/);
  });

  it('checkpoint writes the plugin images; restore --log writes a log that replays with every assertion holding', async () => {
    const imgs = join(dir, 'imgs');
    expect((await gpucr('checkpoint', demo, '--pid', '100', '-D', imgs)).code).toBe(0);
    expect(existsSync(join(imgs, 'amdgpu-kfd-3.img'))).toBe(true);
    const log = join(dir, 'restore.jsonl');
    expect((await gpucr('restore', '-D', imgs, '--log', log)).code).toBe(0);
    const { header, events } = readLog(readFileSync(log, 'utf8'), log);
    expect(events[0]!.call).toBe('criu.restore');
    expect(events.slice(1).every((e) => e.by === 2)).toBe(true);
    expect(replay(header, events).ok).toBe(true);
  });

  it('a process whose dump fails (two /dev/kfd fds: the second UNPAUSE fails): not equivalent, exit 1', async () => {
    const log = join(dir, 'two-kfd.jsonl');
    writeFileSync(
      log,
      [
        JSON.stringify({
          gpucr: 1,
          topology: { gpus: [{ gpu_id: 4097, render_minor: 128 }] },
          processes: [{ pid: 100, ptrace_parent: 99 }],
        }),
        JSON.stringify({ pid: 100, call: 'open', args: { path: '/dev/kfd' } }),
        JSON.stringify({ pid: 100, call: 'open', args: { path: '/dev/kfd' } }),
      ].join('\n') + '\n',
    );
    const r = await gpucr('roundtrip', log, '--pid', '100');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/dump failed: UNPAUSE/);
  });

  it('bad input: no such pid, a bad pid, a missing log → exit 2', async () => {
    expect((await gpucr('roundtrip', demo, '--pid', '4242')).code).toBe(2);
    expect((await gpucr('roundtrip', demo, '--pid', 'x')).code).toBe(2);
    expect((await gpucr('roundtrip', join(dir, 'none.jsonl'), '--pid', '100')).code).toBe(2);
    expect((await gpucr('restore', '-D', join(dir, 'no-such-dir'))).code).toBe(2);
  });
});
