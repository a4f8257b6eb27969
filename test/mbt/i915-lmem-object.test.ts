/** Model-based test of i915_lmem_object (machines/i915/lmem-object.ts) through the i915.* events and content events. */
import {
  earlyObjectAdapter,
  pinnedObjectAdapter,
  unpinnedVolatileAdapter,
  userObjectAdapter,
  volatileObjectAdapter,
} from './adapters/i915-lmem-object.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([userObjectAdapter, pinnedObjectAdapter, volatileObjectAdapter, unpinnedVolatileAdapter, earlyObjectAdapter], {
  spec: 'C.2–C.9',
});
