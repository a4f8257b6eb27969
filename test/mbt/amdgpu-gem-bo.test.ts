/** Model-based test of amdgpu.gem_bo (machines/amdgpu/gem-bo.ts) through the render-node and KFD handlers. */
import { gemBoCreatedAdapter, gemBoImportAdapter, gemBoProposalAdapter } from './adapters/amdgpu-gem-bo.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([gemBoCreatedAdapter, gemBoImportAdapter, gemBoProposalAdapter], { spec: '§1, §7.2, §8.1, §8.2, §11.4' });
