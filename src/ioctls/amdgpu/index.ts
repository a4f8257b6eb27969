/** Registers the amdgpu render-node calls (import for its side effect). */
import './criu-v3.js';
import './gem.js';
import './gem-va.js';
