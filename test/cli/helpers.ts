/**
 * Running the built `gpucr` binary from tests.
 *
 * The tests run a build of their own, in dist/.cli-test/, not dist/ itself: other
 * test files rebuild dist/ in their beforeAll while these spawn the binary, and a
 * module read while tsc rewrites it fails. `ensureBuilt()` builds it when a source is
 * newer than the last build, once per test run at most (test files run in parallel:
 * the build is serialised by a lock directory, and a build made by this run is never
 * replaced under its running tests).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The tests' own build (its package.json lookup walks up to ROOT, its imports resolve in ROOT/node_modules). */
export const OUT = join(ROOT, 'dist/.cli-test');
export const MAIN = join(OUT, 'src/cli/main.js');
const STAMP = join(OUT, '.built-by');
/** The same for every test file of one vitest run (its workers share a parent). */
const RUN = `${process.ppid}`;

function newestSource(dir: string, newest = 0): number {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = newestSource(p, newest);
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const DIST_MAIN = join(ROOT, 'dist/src/cli/main.js');

function newerThanSources(file: string): boolean {
  if (!existsSync(file)) return false;
  const built = statSync(file).mtimeMs;
  return newestSource(join(ROOT, 'src')) < built && newestSource(join(ROOT, 'machines')) < built;
}

function fresh(): boolean {
  if (!existsSync(MAIN) || !existsSync(STAMP)) return false;
  if (readFileSync(STAMP, 'utf8') === RUN) return true;
  const built = statSync(STAMP).mtimeMs;
  return newestSource(join(ROOT, 'src')) < built && newestSource(join(ROOT, 'machines')) < built;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Build the tests' binary unless it is up to date, and dist/ too when it is missing or
 * older than a source (for tests that import the package itself); synchronous, for
 * beforeAll.
 */
export function ensureBuilt(): void {
  const lock = join(tmpdir(), `gpucr-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 170_000;
  for (;;) {
    if (fresh() && newerThanSources(DIST_MAIN)) return;
    try {
      mkdirSync(lock);
    } catch {
      // Another test file is building; a lock older than 3 minutes was left by a killed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error('ensureBuilt: timed out waiting for another build');
      sleep(200);
      continue;
    }
    try {
      if (!newerThanSources(DIST_MAIN)) {
        try {
          execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
        } catch (e) {
          if (!existsSync(DIST_MAIN)) throw e;
        }
      }
      if (!fresh()) {
        rmSync(STAMP, { force: true });
        try {
          const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
          execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', OUT], {
            cwd: ROOT,
            stdio: 'pipe',
          });
        } catch (e) {
          // tsc emits even when another part of the tree does not type-check yet; the
          // type check of the whole project is `npm test`'s job, not this suite's.
          if (!existsSync(MAIN)) throw e;
        }
        // The codec reads its schema file beside it, as `npm run build` copies it into dist/.
        const proto = 'src/criu/images/criu-amdgpu.proto';
        copyFileSync(join(ROOT, proto), join(OUT, proto));
        writeFileSync(STAMP, RUN);
      }
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `gpucr` with arguments; env adds to (or, with undefined, removes from) the environment. */
export function gpucr(args: readonly string[], env: Record<string, string | undefined> = {}): Run {
  const e: NodeJS.ProcessEnv = { ...process.env };
  // Tests decide colour themselves.
  delete e.FORCE_COLOR;
  delete e.NO_COLOR;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', env: e });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A stack frame line: "    at fn (file:1:2)". */
export const STACK = /^\s+at /m;
