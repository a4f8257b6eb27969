/**
 * The generated documentation of the machines (`gpucr diagram`, src/cli/diagram.ts), in
 * one import path:
 *  - mermaid.ts: toMermaid, the `stateDiagram-v2` text of a machine (its rendering rules),
 *    with mermaid-states.ts (state ids), mermaid-edges.ts (edges and their blocks) and
 *    mermaid-labels.ts (transition labels);
 *  - marked-blocks.ts: the generated blocks between `<!-- NAME:begin/end -->` markers;
 *  - diagram-page.ts: the docs/machines/kfd-*.md pages and their diagram block.
 */
export { DIAGRAM_MARKER, diagramBlock, diagramFileName, mermaidOfBlock, newDiagramPage } from './diagram-page.js';
export { extractBlock, MarkerError, markers, replaceBlock } from './marked-blocks.js';
export { toMermaid } from './mermaid.js';
export { actionName, guardName, transitionLabel, type MermaidOptions } from './mermaid-labels.js';
