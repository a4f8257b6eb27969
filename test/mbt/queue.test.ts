/** Model-based test of kfd_queue (machines/kfd/queue.ts) through the handler layer. */
import { queueAdapter, restoredQueueAdapter } from './adapters/queue.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([queueAdapter, restoredQueueAdapter], { spec: '§5.1, §5.3, §5.4, §5.5, §6.1, §7.2' });
