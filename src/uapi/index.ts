/** The uapi layer: ioctl encoding, errno values and the /dev/kfd catalogue (include/uapi/…). */
export * from './errno.js';
export * from './ioc.js';
export * from './kfd.js';
export * from './drm.js';
