/**
 * `gpucr` run in the test's own process (src/cli/program.ts `run`), for the CRIU CLI
 * tests: its exit code and what it wrote to stdout (stderr is silenced).
 */
import { vi } from 'vitest';
import { run } from '../../src/cli/program.js';

export async function gpucr(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const w = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await run(['node', 'gpucr', ...args]), out };
  } finally {
    w.mockRestore();
    e.mockRestore();
  }
}
