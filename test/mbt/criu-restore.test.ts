/** Model-based test of criu_restore (machines/criu/restore.ts) through the criu.restore call. */
import { criuRestoreAdapter } from './adapters/criu-restore.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([criuRestoreAdapter], { spec: '§9.3, §9.5, §9.6, §9.8' });
