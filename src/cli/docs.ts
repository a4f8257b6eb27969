/**
 * `gpucr docs`: regenerate every generated section under a docs directory: the
 * diagram block of each docs/machines/<driver>-<object>.md and the reference block of
 * docs/kfd-ioctls.md. `--check` changes nothing and exits 1 if one is stale.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { markers } from '../docs/diagram.js';
import { IOCTLS_MARKER, ioctlReference } from '../docs/ioctl-reference.js';
import { applyWrites, machineNames, planBlock, planDiagramPages, reportWrites } from './diagram.js';

/** The page written when docs/kfd-ioctls.md does not exist yet. */
function freshIoctlPage(): string {
  const { begin, end } = markers(IOCTLS_MARKER);
  const body = ioctlReference().trimEnd();
  return ['# KFD calls', '', 'TODO: introduction.', '', begin, body, end, ''].join('\n');
}

export function docsCommand(opts: { dir: string; check?: boolean }): number {
  const check = opts.check === true;
  const plans = [
    ...planDiagramPages(join(opts.dir, 'machines'), machineNames()),
    planBlock(join(opts.dir, 'kfd-ioctls.md'), IOCTLS_MARKER, ioctlReference(), freshIoctlPage),
  ];
  return reportWrites(applyWrites(plans, check), check);
}

export function registerDocs(program: Command): void {
  program
    .command('docs')
    .description('regenerate the machine diagrams and the ioctl reference under a docs directory')
    .option('--dir <dir>', 'the docs directory', 'docs')
    .option('--check', 'change nothing, exit 1 if a generated section is stale')
    .action((opts: { dir: string; check?: boolean }) => {
      process.exitCode = docsCommand(opts);
    });
}
