/**
 * The Xe device's power state as the pinned-BO sequences move it (spec C.10, S14):
 * `xe_pm_suspend` (or runtime suspend with D3cold) calls `xe_bo_evict_all`, the device
 * powers down (VRAM content is lost), and `xe_pm_resume` calls `xe_bo_restore_early`
 * before the GT is re-initialised and `xe_bo_restore_late` after.
 */
import { contextSchema } from '../context-schema.js';
import { setup } from 'xstate';

/** The device machine keeps nothing but its state: its context is XState's empty default. */
export type XeDeviceContext = Record<string, never>;

/** XeDeviceContext read back from a snapshot (machines/context-schema.ts): always `{}`. */
export const xeDeviceContextSpec = contextSchema<XeDeviceContext>()(({ z }) => z.strictObject({}));

export type XeDeviceEvent = { type: 'EVICTED_ALL' } | { type: 'RESTORED_EARLY' } | { type: 'RESTORED_LATE' };

export const xeDeviceMachine = setup({
  types: {} as { context: XeDeviceContext; events: XeDeviceEvent },
}).createMachine({
  id: 'xe_device',
  context: {},
  initial: 'running',
  states: {
    running: { on: { EVICTED_ALL: 'suspended' } },
    /** xe_bo_evict_all succeeded and the device powered down. */
    suspended: { on: { RESTORED_EARLY: 'earlyRestored' } },
    /** xe_bo_restore_early succeeded: early kernel BOs are back, the GT can be initialised. */
    earlyRestored: { on: { RESTORED_LATE: 'running' } },
  },
});
