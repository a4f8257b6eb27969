/** Model-based tests of xe_bo (machines/xe/pinned-bo.ts) and xe_device (machines/xe/device.ts): the C.10 pinned-list sequences. */
import { mbtSuite } from './adapters/suite.js';
import {
  xeDeviceAdapter,
  xeEarlyAdapter,
  xeExternalAdapter,
  xeLateAdapter,
  xeNorestoreAdapter,
  xeUserAdapter,
} from './adapters/xe-bo.js';

mbtSuite([xeUserAdapter, xeEarlyAdapter, xeLateAdapter, xeNorestoreAdapter, xeExternalAdapter], { spec: 'C.10' });
mbtSuite([xeDeviceAdapter], { spec: 'C.10' });
