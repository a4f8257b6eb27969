/** gpucr-core.json (src/criu/tasks-image.ts): written and read back; a bad field is an ImageError naming it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImageError } from '../../src/criu/images/index.js';
import { CORE_IMAGE, readCoreImage, writeCoreImage } from '../../src/criu/tasks-image.js';

const core = {
  tasks: [
    { pid: 100, fds: [{ fd: 3, id: 3 }] },
    { pid: 101, fds: [{ fd: 0, id: 4 }] },
  ],
  memory: [{ pid: 100, gpu_id: 0x1001, addr: 0x7f0000000000n, content: { 0: 7, 3: 0xffff } }],
};

describe('gpucr-core.json', () => {
  it('reads back what was written (tasks, fds, userptr pages)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-core-'));
    writeCoreImage(dir, core);
    expect(readCoreImage(dir)).toEqual(core);
    expect(readCoreImage(mkdtempSync(join(tmpdir(), 'gpucr-none-')))).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', 'file'],
    ['a negative pid', '{"tasks":[{"pid":-1,"fds":[]}],"memory":[]}', 'tasks[0].pid'],
    ['a repeated pid', '{"tasks":[{"pid":1,"fds":[]},{"pid":1,"fds":[]}],"memory":[]}', 'tasks[1].pid'],
    ['an fd that is not a number', '{"tasks":[{"pid":1,"fds":[{"fd":"3","id":3}]}],"memory":[]}', 'tasks[0].fds[0].fd'],
    ['a decimal address', '{"tasks":[],"memory":[{"pid":1,"gpu_id":1,"addr":"4096","pages":{}}]}', 'memory[0].addr'],
    [
      'a page value past u32',
      '{"tasks":[],"memory":[{"pid":1,"gpu_id":1,"addr":"0x0","pages":{"0":4294967296}}]}',
      'memory[0].pages.0',
    ],
  ])('%s → ImageError naming the field', (_what, text, field) => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-core-bad-'));
    writeFileSync(join(dir, CORE_IMAGE), text);
    let err: unknown;
    try {
      readCoreImage(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).field).toBe(field);
  });
});
