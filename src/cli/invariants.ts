/** `gpucr invariants`: list the invariants `replay --check` runs (docs/invariants.md). */
import type { Command } from 'commander';
import { allInvariants } from '../invariants/index.js';
import { stableJson } from './output.js';
import { colors } from './style.js';

export function registerInvariants(program: Command): void {
  program
    .command('invariants')
    .description('list the invariants that replay --check runs, with what each one means')
    .option('--json', 'print them as JSON')
    .action((opts: { json?: boolean }) => {
      const list = allInvariants().map((i) => ({ name: i.name, description: i.description }));
      if (opts.json) process.stdout.write(`${stableJson(list)}\n`);
      else {
        const c = colors(process.stdout);
        for (const i of list) process.stdout.write(`${c.bold(i.name)}\n  ${i.description}\n`);
      }
      process.exitCode = 0;
    });
}
