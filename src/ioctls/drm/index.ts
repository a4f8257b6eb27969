/** Registers the DRM core render-node calls (import for its side effect). */
import './gem.js';
import './prime.js';
