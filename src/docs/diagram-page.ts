/**
 * The pages `gpucr diagram --write` keeps (docs/machines/kfd-*.md): their file names, the
 * generated diagram block between the `diagram` markers, and a new page for a machine
 * that has none yet. The prose around the block is hand-written and left alone.
 */
import type { AnyStateMachine } from 'xstate';
import { markers } from './marked-blocks.js';
import { toMermaid } from './mermaid.js';

/** Marker name of the generated diagram section. */
export const DIAGRAM_MARKER = 'diagram';

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
