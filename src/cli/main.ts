#!/usr/bin/env node
/** The `gpucr` binary (package.json "bin"): see src/cli/program.ts and docs/cli.md. */
import { run } from './program.js';

process.exitCode = await run(process.argv);
