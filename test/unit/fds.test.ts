/**
 * A task's fd table (src/world/fds.ts) against the kernel's contract: a new fd is the lowest
 * free number (alloc_fd, whatever was closed before); the IDR search hints kept beside the
 * table (src/world/idr.ts) must never change which fd is handed out, whatever was closed or taken at an exact number
 * (commit_files installing reserved fds, CRIU's dup2) in between, and a copy of the table (no
 * hint) hands out the same fds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freeFd, installFd, lowestFreeFd } from '../../src/world/fds.js';
import { parseTopology } from '../../src/world/topology.js';
import { createWorld, taskOf } from '../../src/world/world.js';

type Op = { open: true } | { close: number } | { exact: number };

const ops = fc.array(
  fc.oneof(
    fc.constant<Op>({ open: true }),
    fc.integer({ min: 0, max: 12 }).map((close): Op => ({ close })),
    fc.integer({ min: 0, max: 12 }).map((exact): Op => ({ exact })),
  ),
  { minLength: 10, maxLength: 60, size: 'max' },
);

describe('alloc_fd (get_unused_fd_flags) and close: the lowest free fd', () => {
  it('agrees with a scan from 0 after any opens, closes and exact installs, and in a copy of the table', () => {
    fc.assert(
      fc.property(ops, (seq) => {
        const w = createWorld(parseTopology({ gpus: [{ gpu_id: 1, render_minor: 128 }] }, []));
        const task = taskOf(w, 100);
        const file = Object.keys(w.files)[0]!; // the tty every task starts with
        const open = new Set(Object.keys(task.fds).map(Number));
        const lowest = () => {
          let fd = 0;
          while (open.has(fd)) fd++;
          return fd;
        };
        for (const op of seq) {
          if ('open' in op) {
            expect(lowestFreeFd({ ...task, fds: { ...task.fds } })).toBe(lowest());
            const fd = installFd(w, task, file);
            expect(fd).toBe(lowest());
            open.add(fd);
          } else if ('close' in op) {
            if (open.delete(op.close)) freeFd(task, op.close);
          } else if (!open.has(op.exact)) {
            task.fds[op.exact] = file;
            open.add(op.exact);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
