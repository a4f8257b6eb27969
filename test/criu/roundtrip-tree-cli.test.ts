/**
 * gpucr checkpoint / restore / roundtrip of a process tree (src/cli/criu.ts): several --pid,
 * --order, gpucr-core.json beside the plugin's images (spec §9.4, §9.5, §9.8).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageDir } from '../../src/criu/images/index.js';
import { readCoreImage } from '../../src/criu/tasks-image.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { formatRecord } from '../../src/log/writer.js';
import { APP, buildHistory, PEER } from './history.js';
import { runCli } from '../cli/in-process.js';

const gpucr = (...args: string[]) => runCli(args);

const dir = mkdtempSync(join(tmpdir(), 'gpucr-criu-tree-'));
const log = join(dir, 'tree.jsonl');

/** The application exports a GTT render-node BO with content; the peer takes the fd with pidfd_getfd and imports it. */
function writeTreeLog(): void {
  const h = buildHistory(
    [
      { op: 'gem', p: 0, gpu: 0, pages: 2, domain: 'GTT' },
      { op: 'gemVa', p: 0, gem: 0, maps: 2 },
      { op: 'share', from: 'gem', index: 0, peer: 'hold', appCloses: true, closeFd: false },
      { op: 'alloc', p: 1, gpu: 1, kind: 'GTT', pages: 1 },
      { op: 'write', p: 1, bo: 0, page: 0, value: 7 },
    ],
    true,
  );
  const t = h.world.topology;
  const header = {
    gpucr: 1,
    topology: { page_size: t.page_size, gpus: t.gpus.map((g) => ({ gpu_id: g.gpu_id, render_minor: g.render_minor })) },
    processes: t.processes.map((p) => ({ pid: p.pid, caps: p.caps, ptrace_parent: p.ptrace_parent })),
  };
  writeFileSync(log, `${[JSON.stringify(header), ...h.calls.map((c) => formatRecord(c))].join('\n')}\n`);
}
writeTreeLog();

describe('gpucr checkpoint / restore / roundtrip of two processes sharing a dma-buf', () => {
  it('spec §9.8: roundtrip --pid 100 --pid 101 is equivalent in both restore orders, exit 0', async () => {
    for (const order of [[], ['--order', `${PEER},${APP}`]]) {
      const r = await gpucr('roundtrip', log, '--pid', String(APP), '--pid', String(PEER), ...order);
      expect(r.stdout).toMatch(/^equivalent/);
      expect(r.code).toBe(0);
    }
  });

  it('checkpoint writes both tasks (gpucr-core.json); restore --order 101,100 writes a log that replays', async () => {
    const imgs = join(dir, 'imgs');
    const c = await gpucr('checkpoint', log, '--pid', String(APP), '--pid', String(PEER), '-D', imgs);
    expect(c.code).toBe(0);
    const core = readCoreImage(imgs)!;
    expect(core.tasks.map((t) => t.pid)).toEqual([APP, PEER]);
    // the peer's files have CRIU file ids after the application's; its dma-buf has an image
    const appMax = Math.max(...core.tasks[0]!.fds.map((f) => f.id));
    expect(core.tasks[1]!.fds.every((f) => f.id > appMax)).toBe(true);
    const dmabuf = readImageDir(imgs).dmabuf.map((d) => d.id);
    expect(dmabuf.filter((id) => core.tasks[1]!.fds.some((f) => f.id === id))).toHaveLength(1);
    const out = join(dir, 'restore.jsonl');
    const r = await gpucr('restore', '-D', imgs, '--order', `${PEER},${APP}`, '--log', out);
    expect(r.stdout).toMatch(/done/);
    const { header, events } = readLog(readFileSync(out, 'utf8'), out);
    // the peer took the application's published dma-buf with pidfd_getfd
    expect(events.some((e) => e.call === 'pidfd_getfd' && e.pid === PEER)).toBe(true);
    expect(replay(header, events).ok).toBe(true);
  });

  it('bad input: a repeated --pid, an --order that is not the tasks → exit 2', async () => {
    expect((await gpucr('roundtrip', log, '--pid', '100', '--pid', '100')).code).toBe(2);
    expect((await gpucr('roundtrip', log, '--pid', '100', '--pid', '101', '--order', '100,4242')).code).toBe(2);
    expect((await gpucr('roundtrip', log, '--pid', '100', '--order', 'x')).code).toBe(2);
  });
});
