/** The CRIU orchestration machines (spec §9.3–§9.5, §11.5). */
export * from './dump.js';
export * from './restore.js';
