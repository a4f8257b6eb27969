/** The amdkfd object machines, by world object kind. */
export { boMachine } from './bo.js';
export { eventMachine } from './event.js';
export { pddMachine } from './pdd.js';
export { processMachine } from './process.js';
export { queueMachine } from './queue.js';
export { svmRangeMachine } from './svm-range.js';
