/** Model-based testing of the object machines (design "Layers" 6): serializer, coverage, path runs, describeModel. */
export * from './coverage.js';
export * from './run.js';
export * from './serialize.js';
// describe-model.ts imports vitest: the package exposes it as the `gpucr/vitest` subpath,
// and the main entry point (src/index.ts) does not re-export this module.
export * from './describe-model.js';
export * from './sample-events.js';
