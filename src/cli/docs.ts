/**
 * `gpucr docs`: regenerate every generated section under a docs directory: the
 * diagram block and the context block (the fields of the kind's context schema) of each
 * docs/machines/<driver>-<object>.md, and the reference block of docs/kfd-ioctls.md.
 * `--check` changes nothing and exits 1 if one is stale or missing.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { CONTEXT_MARKER, contextBlock, withContextBlock } from '../docs/diagram-page.js';
import { MarkerError, markers } from '../docs/diagram.js';
import { IOCTLS_MARKER, ioctlReference } from '../docs/ioctl-reference.js';
import { InputError } from '../errors.js';
import { contextSpecOf } from '../world/objects.js';
import type { ObjectKind } from '../world/types.js';
import { applyWrites, machineNames, type PlannedWrite, planBlock, planDiagramPages, reportWrites } from './diagram.js';

/** The page written when docs/kfd-ioctls.md does not exist yet. */
function freshIoctlPage(): string {
  const { begin, end } = markers(IOCTLS_MARKER);
  const body = ioctlReference().trimEnd();
  return ['# KFD calls', '', 'TODO: introduction.', '', begin, body, end, ''].join('\n');
}

/** A planned machine page with its context block set too (added under the diagram when missing). */
function withContext(plan: PlannedWrite, kind: ObjectKind): PlannedWrite {
  const spec = contextSpecOf(kind);
  if (!spec) return plan;
  try {
    return { ...plan, after: withContextBlock(plan.after, contextBlock(kind, spec.schema)) };
  } catch (e) {
    if (!(e instanceof MarkerError)) throw e;
    const { begin, end } = markers(CONTEXT_MARKER);
    throw new InputError(plan.file, `no context markers, or one ${begin} line followed by one ${end} line`, e.message);
  }
}

export function docsCommand(opts: { dir: string; check?: boolean }): number {
  const check = opts.check === true;
  const kinds = machineNames();
  const plans = [
    ...planDiagramPages(join(opts.dir, 'machines'), kinds).map((p, i) => withContext(p, kinds[i]!)),
    planBlock(join(opts.dir, 'kfd-ioctls.md'), IOCTLS_MARKER, ioctlReference(), freshIoctlPage),
  ];
  return reportWrites(applyWrites(plans, check), check);
}

export function registerDocs(program: Command): void {
  program
    .command('docs')
    .description('regenerate the machine diagrams, their context tables and the ioctl reference under a docs directory')
    .option('--dir <dir>', 'the docs directory', 'docs')
    .option('--check', 'change nothing, exit 1 if a generated section is stale')
    .action((opts: { dir: string; check?: boolean }) => {
      process.exitCode = docsCommand(opts);
    });
}
