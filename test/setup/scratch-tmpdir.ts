// Vitest global setup: one scratch directory per test run, removed when the run ends.
//
// Tests and the gpucr processes they spawn make their temporary directories with
// mkdtemp under os.tmpdir(). Pointing TMPDIR at a directory of this run's own, before
// the workers start (they and their children inherit the environment), lets the run
// remove everything it wrote in one place: a test that fails, times out or forgets its
// rmSync leaves nothing behind in the machine's /tmp (some write 40 MB logs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const scratch = mkdtempSync(join(tmpdir(), 'gpucr-test-run-'));
  process.env.TMPDIR = scratch;
  return () => {
    rmSync(scratch, { recursive: true, force: true });
  };
}
