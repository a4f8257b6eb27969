/** Model-based test of kfd_event (machines/kfd/event.ts) through the handler layer. */
import { eventAdapter, restoredEventAdapter } from './adapters/event.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([eventAdapter, restoredEventAdapter], { spec: '§5.2.2, §5.4, §7.2' });
