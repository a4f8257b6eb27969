/**
 * The pages `gpucr diagram --write` keeps (docs/machines/kfd-*.md): their file names, the
 * generated diagram block between the `diagram` markers, and a new page for a machine
 * that has none yet. `gpucr docs` also keeps the context block of each page (between the
 * `context` markers, under `## Context` right after the diagram). The prose around the
 * blocks is hand-written and left alone.
 */
import type { AnyStateMachine } from 'xstate';
import type { z } from '../../machines/context-schema.js';
import { contextRows, contextTable } from './context-table.js';
import { markers, replaceBlock } from './marked-blocks.js';
import { toMermaid } from './mermaid.js';

/** Marker name of the generated diagram section. */
export const DIAGRAM_MARKER = 'diagram';

/** Marker name of the generated context table. */
export const CONTEXT_MARKER = 'context';

/** `kfd.svm_range` → `kfd-svm-range.md` */
export function diagramFileName(kind: string): string {
  return `${kind.replace(/[._]/g, '-')}.md`;
}

/** The content written between the diagram markers: a notice and a fenced mermaid block. */
export function diagramBlock(kind: string, machine: AnyStateMachine): string {
  return [
    `<!-- generated from the ${kind} machine (id ${machine.id}) by \`npm run diagrams\`; ` + 'do not edit by hand -->',
    '```mermaid',
    toMermaid(machine).trimEnd(),
    '```',
    '',
  ].join('\n');
}

/** The mermaid text inside a diagram block (between the ```mermaid fence lines). */
export function mermaidOfBlock(block: string): string | undefined {
  const m = /```mermaid\r?\n([\s\S]*?)```/.exec(block);
  return m ? m[1] : undefined;
}

/** A new page for a machine that has none yet: a title, a pointer to write the prose, the block. */
export function newDiagramPage(kind: string, machine: AnyStateMachine): string {
  const { begin, end } = markers(DIAGRAM_MARKER);
  return [
    `# ${kind} (${machine.id})`,
    '',
    'TODO: describe the kernel object, its states, events and guards.',
    '',
    '## Diagram',
    '',
    begin,
    diagramBlock(kind, machine).trimEnd(),
    end,
    '',
  ].join('\n');
}

/** The content written between the context markers: a notice, a line saying what it is, the table. */
export function contextBlock(kind: string, schema: z.ZodType): string {
  const notice = `<!-- generated from the ${kind} context schema by \`npm run docs\`; do not edit by hand -->`;
  const snapshots = '([log-format.md](../log-format.md#snapshots))';
  if (contextRows(schema).length === 0)
    return [
      notice,
      `The context of every \`${kind}\` object is empty (\`{}\`), in snapshots too ${snapshots}.`,
      '',
    ].join('\n');
  return [
    notice,
    '### As a snapshot holds it',
    '',
    `The context of every \`${kind}\` object, field by field, as a snapshot is checked against it`,
    `${snapshots}:`,
    '',
    contextTable(schema).trimEnd(),
    '',
  ].join('\n');
}

/**
 * `page` with its context block set to `block`. A page without the context markers gets
 * them at the end of its `## Context` section when the diagram block is followed by one (the
 * hand-written table of what each field means in the kernel comes first), else in a new
 * `## Context` section right after the diagram block.
 * Throws MarkerError when a page has no diagram markers, or bad context markers.
 */
export function withContextBlock(page: string, block: string): string {
  const { begin, end } = markers(CONTEXT_MARKER);
  if (page.includes(begin) || page.includes(end)) return replaceBlock(page, CONTEXT_MARKER, block);
  // Checks the diagram markers (throws MarkerError without them).
  replaceBlock(page, DIAGRAM_MARKER, '');
  const diagramEnd = markers(DIAGRAM_MARKER).end;
  const lineEnd = page.indexOf('\n', page.indexOf(diagramEnd));
  const head = lineEnd < 0 ? `${page}\n` : page.slice(0, lineEnd + 1);
  const rest = lineEnd < 0 ? '' : page.slice(lineEnd + 1);
  const section = [begin, block.trimEnd(), end, ''].join('\n');
  const heading = /^(?:[ \t]*\r?\n)*## Context[ \t]*\r?\n/.exec(rest);
  if (heading) {
    const body = head.length + heading[0].length;
    const next = page.indexOf('\n## ', body);
    const at = next < 0 ? page.length : next + 1;
    return `${page.slice(0, at).trimEnd()}\n\n${section}\n${page.slice(at)}`;
  }
  return `${head}\n## Context\n\n${section}${rest}`;
}
