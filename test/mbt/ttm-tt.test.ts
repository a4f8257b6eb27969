/** Model-based test of ttm_tt (machines/ttm/tt.ts) through the ttm.* events, gpu_write and fault injection. */
import { backupTtAdapter, legacyTtAdapter } from './adapters/ttm-tt.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([backupTtAdapter, legacyTtAdapter], { spec: 'A.4–A.7' });
