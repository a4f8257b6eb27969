/**
 * `gpucr` run in the test's own process (src/cli/program.ts `run`): its exit code and what
 * it wrote to stdout and stderr, which are silenced meanwhile. For the tests that run the
 * CLI many times, where a child process per run would cost seconds.
 */
import { vi } from 'vitest';
import { run } from '../../src/cli/program.js';

export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  try {
    return { code: await run(['node', 'gpucr', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
