/**
 * The `gpucr` command line (docs/cli.md): one commander program, one module per command.
 *
 * Exit codes: 0 success, 1 a check failed (divergence), 2 bad input (a log, a
 * topology, a CLI argument: message on stderr, no stack trace), 70 a gpucr bug
 * (EX_SOFTWARE: "gpucr: internal error:" and the stack).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { InputError } from '../errors.js';
import { registerCheck } from './check.js';
import { registerFuzz } from './fuzz.js';
import { registerCriu } from './criu.js';
import { registerDemo } from './demo.js';
import { registerDiagram } from './diagram.js';
import { registerDocs } from './docs.js';
import { registerImages } from './images.js';
import { registerInvariants } from './invariants.js';
import { registerRepair } from './repair.js';
import { registerPaths } from './paths.js';
import { registerReplay } from './replay.js';
import { registerRun } from './run.js';
import { registerState } from './state.js';
import { colors } from './style.js';
import { registerValidate } from './validate.js';

export const EXIT_OK = 0;
export const EXIT_DIVERGENCE = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERNAL = 70;

/** The version in package.json, found by walking up from this module (src/cli or dist/src/cli). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'gpucr' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here; go up
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('gpucr')
    .description('GPU checkpoint/restore (amdkfd, amdgpu, CRIU) modelled as event-sourced state machines')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help')
    // Set before any subcommand is added, so that every subcommand inherits it.
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerReplay(program);
  registerRun(program);
  registerState(program);
  registerValidate(program);
  registerRepair(program);
  registerInvariants(program);
  registerDemo(program);
  registerDiagram(program);
  registerDocs(program);
  registerImages(program);
  registerCheck(program);
  registerFuzz(program);
  registerPaths(program);
  registerCriu(program);
  return program;
}

/** Run the program on argv (process.argv form) and return the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    if (e instanceof InputError) {
      process.stderr.write(`${colors(process.stderr).red(e.message)}\n`);
      return EXIT_BAD_INPUT;
    }
    const stack = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
    process.stderr.write(`gpucr: internal error: ${stack}\n`);
    return EXIT_INTERNAL;
  }
}
