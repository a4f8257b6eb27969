/**
 * The part of include/uapi/drm/drm_mode.h that drm.h's `DRM_IOCTL_MODE_*`
 * request numbers depend on: the argument structs of the KMS ioctls (and the
 * struct they embed), so that those request numbers are computed, not typed.
 * The rest of drm_mode.h (KMS object/property constants, HDR metadata, format
 * modifiers …) is out of gpucr's scope and not catalogued.
 */
import { type DrmFieldSpec, type DrmStructLayout, type DrmStructSpec, layoutDrmStructs } from './drm-layout.js';

/** Length of drm_mode_modeinfo.name (`DRM_DISPLAY_MODE_LEN`, include/uapi/drm/drm_mode.h). */
export const DRM_DISPLAY_MODE_LEN = 32;
/** Length of drm_mode_get_property.name (`DRM_PROP_NAME_LEN`, include/uapi/drm/drm_mode.h). */
export const DRM_PROP_NAME_LEN = 32;

/** The drm_mode.h macros the catalogued structs use, by full C name (include/uapi/drm/drm_mode.h). */
export const DRM_MODE_CONSTANTS: Readonly<Record<string, number>> = Object.freeze({
  DRM_DISPLAY_MODE_LEN,
  DRM_PROP_NAME_LEN,
});

const u16 = (...names: string[]): DrmFieldSpec[] => names.map((n) => [n, 'u16'] as const);
const u32 = (...names: string[]): DrmFieldSpec[] => names.map((n) => [n, 'u32'] as const);
const s32 = (...names: string[]): DrmFieldSpec[] => names.map((n) => [n, 's32'] as const);
const u64 = (...names: string[]): DrmFieldSpec[] => names.map((n) => [n, 'u64'] as const);

/** Field lists of the drm_mode.h structs that are KMS ioctl arguments, in header order (include/uapi/drm/drm_mode.h). */
export const DRM_MODE_STRUCT_SPECS: Readonly<Record<string, DrmStructSpec>> = {
  drm_mode_modeinfo: {
    kind: 'struct',
    fields: [
      ...u32('clock'),
      ...u16('hdisplay', 'hsync_start', 'hsync_end', 'htotal', 'hskew'),
      ...u16('vdisplay', 'vsync_start', 'vsync_end', 'vtotal', 'vscan'),
      ...u32('vrefresh', 'flags', 'type'),
      ['name', 'char', DRM_DISPLAY_MODE_LEN],
    ],
  },
  drm_mode_card_res: {
    kind: 'struct',
    fields: [
      ...u64('fb_id_ptr', 'crtc_id_ptr', 'connector_id_ptr', 'encoder_id_ptr'),
      ...u32('count_fbs', 'count_crtcs', 'count_connectors', 'count_encoders'),
      ...u32('min_width', 'max_width', 'min_height', 'max_height'),
    ],
  },
  drm_mode_crtc: {
    kind: 'struct',
    fields: [
      ...u64('set_connectors_ptr'),
      ...u32('count_connectors', 'crtc_id', 'fb_id', 'x', 'y', 'gamma_size', 'mode_valid'),
      ['mode', 'struct drm_mode_modeinfo'],
    ],
  },
  drm_mode_set_plane: {
    kind: 'struct',
    fields: [
      ...u32('plane_id', 'crtc_id', 'fb_id', 'flags'),
      ...s32('crtc_x', 'crtc_y'),
      ...u32('crtc_w', 'crtc_h', 'src_x', 'src_y', 'src_h', 'src_w'),
    ],
  },
  drm_mode_get_plane: {
    kind: 'struct',
    fields: [
      ...u32('plane_id', 'crtc_id', 'fb_id', 'possible_crtcs', 'gamma_size', 'count_format_types'),
      ...u64('format_type_ptr'),
    ],
  },
  drm_mode_get_plane_res: { kind: 'struct', fields: [...u64('plane_id_ptr'), ...u32('count_planes')] },
  drm_mode_get_encoder: {
    kind: 'struct',
    fields: u32('encoder_id', 'encoder_type', 'crtc_id', 'possible_crtcs', 'possible_clones'),
  },
  drm_mode_get_connector: {
    kind: 'struct',
    fields: [
      ...u64('encoders_ptr', 'modes_ptr', 'props_ptr', 'prop_values_ptr'),
      ...u32('count_modes', 'count_props', 'count_encoders', 'encoder_id', 'connector_id', 'connector_type'),
      ...u32('connector_type_id', 'connection', 'mm_width', 'mm_height', 'subpixel', 'pad'),
    ],
  },
  drm_mode_get_property: {
    kind: 'struct',
    fields: [
      ...u64('values_ptr', 'enum_blob_ptr'),
      ...u32('prop_id', 'flags'),
      ['name', 'char', DRM_PROP_NAME_LEN],
      ...u32('count_values', 'count_enum_blobs'),
    ],
  },
  drm_mode_connector_set_property: { kind: 'struct', fields: [...u64('value'), ...u32('prop_id', 'connector_id')] },
  drm_mode_obj_get_properties: {
    kind: 'struct',
    fields: [...u64('props_ptr', 'prop_values_ptr'), ...u32('count_props', 'obj_id', 'obj_type')],
  },
  drm_mode_obj_set_property: { kind: 'struct', fields: [...u64('value'), ...u32('prop_id', 'obj_id', 'obj_type')] },
  drm_mode_get_blob: { kind: 'struct', fields: [...u32('blob_id', 'length'), ...u64('data')] },
  drm_mode_fb_cmd: {
    kind: 'struct',
    fields: u32('fb_id', 'width', 'height', 'pitch', 'bpp', 'depth', 'handle'),
  },
  drm_mode_fb_cmd2: {
    kind: 'struct',
    fields: [
      ...u32('fb_id', 'width', 'height', 'pixel_format', 'flags'),
      ['handles', 'u32', 4],
      ['pitches', 'u32', 4],
      ['offsets', 'u32', 4],
      ['modifier', 'u64', 4],
    ],
  },
  drm_mode_fb_dirty_cmd: {
    kind: 'struct',
    fields: [...u32('fb_id', 'flags', 'color', 'num_clips'), ...u64('clips_ptr')],
  },
  drm_mode_mode_cmd: { kind: 'struct', fields: [...u32('connector_id'), ['mode', 'struct drm_mode_modeinfo']] },
  drm_mode_cursor: {
    kind: 'struct',
    fields: [...u32('flags', 'crtc_id'), ...s32('x', 'y'), ...u32('width', 'height', 'handle')],
  },
  drm_mode_cursor2: {
    kind: 'struct',
    fields: [
      ...u32('flags', 'crtc_id'),
      ...s32('x', 'y'),
      ...u32('width', 'height', 'handle'),
      ...s32('hot_x', 'hot_y'),
    ],
  },
  drm_mode_crtc_lut: { kind: 'struct', fields: [...u32('crtc_id', 'gamma_size'), ...u64('red', 'green', 'blue')] },
  drm_mode_crtc_page_flip: {
    kind: 'struct',
    fields: [...u32('crtc_id', 'fb_id', 'flags', 'reserved'), ...u64('user_data')],
  },
  drm_mode_create_dumb: {
    kind: 'struct',
    fields: [...u32('height', 'width', 'bpp', 'flags', 'handle', 'pitch'), ...u64('size')],
  },
  drm_mode_map_dumb: { kind: 'struct', fields: [...u32('handle', 'pad'), ...u64('offset')] },
  drm_mode_destroy_dumb: { kind: 'struct', fields: u32('handle') },
  drm_mode_atomic: {
    kind: 'struct',
    fields: [
      ...u32('flags', 'count_objs'),
      ...u64('objs_ptr', 'count_props_ptr', 'props_ptr', 'prop_values_ptr', 'reserved', 'user_data'),
    ],
  },
  drm_mode_create_blob: { kind: 'struct', fields: [...u64('data'), ...u32('length', 'blob_id')] },
  drm_mode_destroy_blob: { kind: 'struct', fields: u32('blob_id') },
  drm_mode_create_lease: {
    kind: 'struct',
    fields: [...u64('object_ids'), ...u32('object_count', 'flags', 'lessee_id', 'fd')],
  },
  drm_mode_list_lessees: { kind: 'struct', fields: [...u32('count_lessees', 'pad'), ...u64('lessees_ptr')] },
  drm_mode_get_lease: { kind: 'struct', fields: [...u32('count_objects', 'pad'), ...u64('objects_ptr')] },
  drm_mode_revoke_lease: { kind: 'struct', fields: u32('lessee_id') },
};

/** Layouts of the KMS ioctl argument structs of drm_mode.h (include/uapi/drm/drm_mode.h, x86-64). */
export const DRM_MODE_STRUCTS: Readonly<Record<string, DrmStructLayout>> = layoutDrmStructs(DRM_MODE_STRUCT_SPECS);
