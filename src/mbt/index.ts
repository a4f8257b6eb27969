/** Model-based testing of the object machines (design "Layers" 6): serializer, coverage, path runs. */
export * from './coverage.js';
export * from './run.js';
export * from './serialize.js';
