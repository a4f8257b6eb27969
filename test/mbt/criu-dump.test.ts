/** Model-based test of criu_dump (machines/criu/dump.ts) through the criu.dump call. */
import { criuDumpAdapter } from './adapters/criu-dump.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([criuDumpAdapter], { spec: '§9.3, §9.4, §9.8' });
