/** Model-based test of i915_device (machines/i915/suspend.ts): the C.6 / C.7 sequences and the GT. */
import { i915DeviceAdapter } from './adapters/i915-device.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([i915DeviceAdapter], { spec: 'C.6, C.7' });
