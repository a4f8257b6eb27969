/** Model-based test of amdgpu.bo_va (machines/amdgpu/bo-va.ts) through GEM_VA and the KFD mapping ioctls. */
import { boVaAdapter } from './adapters/amdgpu-bo-va.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([boVaAdapter], { spec: '§1, §7.2, §8.2, §11.4' });
