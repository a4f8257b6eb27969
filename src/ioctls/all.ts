/** Registers every call gpucr models (import for its side effect). */
import './content.js';
import './fs.js';
import './kfd/acquire-vm.js';
import './kfd/alloc-memory-of-gpu.js';
import './kfd/criu-op.js';
import './kfd/dmabuf.js';
import './kfd/events.js';
import './kfd/free-memory-of-gpu.js';
import './kfd/internal.js';
import './kfd/map-memory-to-gpu.js';
import './kfd/misc.js';
import './kfd/queue.js';
import './kfd/svm.js';
