#!/usr/bin/env node
/** The `gpucr` binary (package.json "bin"): see src/cli/program.ts and docs/cli.md. */
import { run } from './program.js';

// A reader that goes away (`gpucr demo | head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await run(process.argv);
