/**
 * The switches of the CRIU amdgpu plugin's GPU remapping (spec §9.10; remap.ts) and the
 * KFD_*_CHECK environment variables that set them.
 */
import { InputError } from '../errors.js';

/**
 * The plugin's switches (spec §9.10), all enabled by default; `remapOptionsFromEnv` reads them
 * from the environment variables named in each comment.
 */
export interface RemapOptions {
  /** KFD_FW_VER_CHECK: destination fw_version ≥ source. */
  fwVersionCheck?: boolean;
  /** KFD_SDMA_FW_VER_CHECK: destination sdma_fw_version ≥ source. */
  sdmaFwVersionCheck?: boolean;
  /** KFD_CACHES_COUNT_CHECK: destination caches_count ≥ source. */
  cachesCountCheck?: boolean;
  /** KFD_NUM_GWS_CHECK: destination num_gws ≥ source. */
  numGwsCheck?: boolean;
  /** KFD_VRAM_SIZE_CHECK: destination vram_size ≥ source. */
  vramSizeCheck?: boolean;
  /** KFD_NUMA_CHECK: keep the GPUs of one NUMA (CPU) node together. */
  numaCheck?: boolean;
  /** KFD_CAPABILITY_CHECK: equal capability. */
  capabilityCheck?: boolean;
  /**
   * gpucr extension, default false (the plugin): when a source hive has been matched but the
   * hives after it cannot be, try the next destination hive for it. The plugin keeps the first
   * match's mappings in that case, so every later attempt fails (docs/gpu-remap.md).
   */
  xgmiGroupBacktracking?: boolean;
}

/** The environment variables of spec §9.10 and the option each sets. */
export const REMAP_ENV: Readonly<Record<string, keyof RemapOptions>> = {
  KFD_FW_VER_CHECK: 'fwVersionCheck',
  KFD_SDMA_FW_VER_CHECK: 'sdmaFwVersionCheck',
  KFD_CACHES_COUNT_CHECK: 'cachesCountCheck',
  KFD_NUM_GWS_CHECK: 'numGwsCheck',
  KFD_VRAM_SIZE_CHECK: 'vramSizeCheck',
  KFD_NUMA_CHECK: 'numaCheck',
  KFD_CAPABILITY_CHECK: 'capabilityCheck',
};

/** Reads the KFD_*_CHECK variables (values 0/1/YES/NO, any case; unset = enabled). */
export function remapOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): RemapOptions {
  const opts: RemapOptions = {};
  for (const [name, key] of Object.entries(REMAP_ENV)) {
    const v = env[name];
    if (v === undefined) continue;
    const u = v.trim().toUpperCase();
    if (u === '1' || u === 'YES') opts[key] = true;
    else if (u === '0' || u === 'NO') opts[key] = false;
    else throw new InputError(name, '0, 1, YES or NO (spec §9.10)', v);
  }
  return opts;
}

/**
 * The switches of an environment given as `NAME=value` entries (the `env` argument of
 * `criu.restore`, `gpucr restore`'s KFD_*_CHECK variables): an unknown name or a bad value is
 * bad input naming the entry (`where[i]`).
 */
export function remapOptionsFromList(entries: readonly string[], where: string): RemapOptions {
  const opts: RemapOptions = {};
  entries.forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (eq < 0 || !Object.hasOwn(REMAP_ENV, name))
      throw new InputError(`${where}[${i}]`, `NAME=value with NAME one of ${Object.keys(REMAP_ENV).join(', ')}`, entry);
    try {
      Object.assign(opts, remapOptionsFromEnv({ [name]: entry.slice(eq + 1) }));
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${where}[${i}]`, e.expected, entry);
      throw e;
    }
  });
  return opts;
}
