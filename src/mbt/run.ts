/**
 * Model-based test runs of one object machine against the handler layer (design "Layers" 6).
 *
 * The test model is `createTestModel(machine, …)` from `xstate/graph`; its paths are
 * sequences of machine-level events. An **adapter** says how the kernel causes those
 * events: a list of *macros*, each one call (or a few calls) of `step()` — an ioctl,
 * open/close/exit, or a kernel-internal event — together with the exact sequence of
 * machine events that call causes on the object under test (its *effect*). One ioctl
 * often sends several events to the same object (CREATE_QUEUE binds the pdd, allocates
 * its doorbells and adds the queue), and some events never come alone, so a path is
 * executable only if it splits into consecutive macro effects.
 *
 * The traversal therefore explores the product of
 *  - the machine snapshot, reduced by a per-machine context abstraction,
 *  - the adapter's *grammar state*: which macros are under way and a small environment
 *    value (`env`) for what the subject's machine cannot see (is the process paused, has
 *    the peer GPU a VM, was RESTORE issued …), and
 *  - the transition that led to the state, so that every transition definition gets a
 *    vertex of its own and `getShortestPaths` yields a path through it.
 * `filterEvents` admits an event only if the machine enables it (`getTransitionData`,
 * which also sees targetless transitions) and some macro can produce it next.
 *
 * Every selected path is then replayed on the machine (pure `transition`) and executed
 * with `testModel.testPath`: the macros run against a fresh world, and after each macro
 * the subject's state in `world.objects` must equal the model's state value (an object
 * whose machine reached a final state is dropped by the handlers, so "absent" stands
 * for the final state), and the adapter's projection of the context must agree.
 * Coverage is recorded on the model side along every executed path.
 *
 * The pieces, one module each:
 *  - adapter.ts: the adapter contract (macros, event patterns) and `macroTable`;
 *  - grammar.ts: the grammar state followed during the traversal;
 *  - parse-path.ts: splitting a path into macro applications;
 *  - test-model.ts: the test model over the product above;
 *  - plan-paths.ts: `planPaths`, the executable paths and the covering selection;
 *  - execute-path.ts: `executePath`, one path against a fresh world.
 */
export { type Adapter, type EventPattern, type Macro, type MacroRun, macroTable, type Sut } from './adapter.js';
export { executePath } from './execute-path.js';
export type { Application } from './parse-path.js';
export { type Plan, type PlannedPath, planPaths } from './plan-paths.js';
