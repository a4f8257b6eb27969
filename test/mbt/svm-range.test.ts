/** Model-based test of kfd_svm_range (machines/kfd/svm-range.ts) through the handler layer. */
import { svmRangeAdapter } from './adapters/svm-range.js';
import { mbtSuite } from './adapters/suite.js';

mbtSuite([svmRangeAdapter], { spec: '§5.2.3, §5.4, §5.5' });
