import type { DeviceRecord } from '../records.ts';
import { isoUtc } from '../time.ts';

/** The igloohome rule that caps PINs on one lock, online and offline together. */
export const MAX_ACTIVE_CODES = 199;
/** Online (bridge-programmed) custom PINs; algoPINs are 7 digits or more, so lengths never overlap. */
export const ONLINE_CODE_LENGTHS = [4, 5, 6];

/** The device error of a lock whose bridge is off-line. */
export const HUB_DISCONNECTED = {
  error_code: 'hub_disconnected',
  message: 'The igloohome bridge of this lock is offline.',
} as const;

/** The algoPIN ranges, in the Seam `offline_time_frame_options` vocabulary. */
export const OFFLINE_TIME_FRAME_OPTIONS = [
  { display_name: 'algoPIN hourly-bound', min_duration: 'PT1H', max_duration: 'PT672H' },
  {
    display_name: 'algoPIN daily-bound',
    min_duration: 'P29D',
    max_duration: 'P367D',
    matching_start_end_time: true,
  },
  { display_name: 'algoPIN one-time-use', min_duration: 'PT24H', max_duration: 'PT24H' },
] as const;

/** The lock capability flags a device reports (its top-level booleans). */
export const LOCK_CAPABILITY_FLAGS = [
  'can_program_offline_access_codes',
  'can_program_online_access_codes',
  'can_remotely_lock',
  'can_remotely_unlock',
  'can_unlock_with_code',
  'can_simulate_connection',
  'can_simulate_disconnection',
  'can_simulate_removal',
] as const;
export type LockCapabilityFlag = (typeof LOCK_CAPABILITY_FLAGS)[number];

/** Every flag Seam's `include_if` / `exclude_if` accept; those a lock does not report count as false. */
export const DEVICE_CAPABILITY_FLAGS = [
  ...LOCK_CAPABILITY_FLAGS,
  'can_configure_auto_lock',
  'can_hvac_cool',
  'can_hvac_heat',
  'can_hvac_heat_cool',
  'can_program_thermostat_programs_as_different_each_day',
  'can_program_thermostat_programs_as_same_each_day',
  'can_program_thermostat_programs_as_weekday_weekend',
  'can_run_thermostat_programs',
  'can_simulate_hub_connection',
  'can_simulate_hub_disconnection',
  'can_simulate_paid_subscription',
  'can_turn_off_hvac',
] as const;
export type DeviceCapabilityFlag = (typeof DEVICE_CAPABILITY_FLAGS)[number];

export function hasCapability(d: DeviceRecord, flag: DeviceCapabilityFlag): boolean {
  return (deviceCapabilities(d) as Partial<Record<DeviceCapabilityFlag, boolean>>)[flag] ?? false;
}

export function deviceCapabilities(d: DeviceRecord): Record<LockCapabilityFlag, boolean> {
  return {
    can_program_offline_access_codes: true,
    can_program_online_access_codes: d.has_bridge,
    // Remote lock/unlock through the bridge is not offered yet: say so rather than fail later.
    can_remotely_lock: false,
    can_remotely_unlock: false,
    can_unlock_with_code: true,
    can_simulate_connection: d.has_bridge,
    can_simulate_disconnection: d.has_bridge,
    can_simulate_removal: false,
  };
}

/**
 * The Seam `device` object for a (virtual) igloohome lock. A lock without a bridge is reachable only
 * through algoPINs, so it reports `online: false` with igloohome's `hub_required_for_additional_capabilities`
 * warning, as Seam does for bridge-less igloohome locks.
 */
export function toSeamDevice(d: DeviceRecord) {
  const created_at = isoUtc(d.created_at);
  const capabilities = deviceCapabilities(d);
  const errors =
    d.has_bridge && !d.bridge_online ? [{ ...HUB_DISCONNECTED, is_device_error: true, created_at }] : [];
  const warnings = d.has_bridge
    ? []
    : [
        {
          warning_code: 'hub_required_for_additional_capabilities',
          message: 'Add an igloohome bridge to program online access codes and lock or unlock remotely.',
          created_at,
        },
      ];
  return {
    device_id: d.device_id,
    device_type: d.device_type,
    display_name: d.name,
    space_ids: [],
    capabilities_supported: ['access_code', 'lock'],
    ...capabilities,
    properties: {
      online: d.has_bridge && d.bridge_online,
      name: d.name,
      appearance: { name: d.name },
      model: {
        display_name: d.model_name,
        manufacturer_display_name: 'igloohome',
        has_built_in_keypad: true,
        can_connect_accessory_keypad: false,
        offline_access_codes_supported: true,
        online_access_codes_supported: d.has_bridge,
      },
      manufacturer: 'igloohome',
      locked: true,
      battery_level: 1,
      battery: { level: 1, status: 'full' },
      igloohome_metadata: {
        device_id: d.provider_device_id,
        device_name: d.name,
        ...(d.has_bridge ? { bridge_id: `BR${d.provider_device_id}`, bridge_name: `${d.name} bridge` } : {}),
      },
      offline_access_codes_enabled: true,
      online_access_codes_enabled: d.has_bridge,
      max_active_codes_supported: MAX_ACTIVE_CODES,
      // Without a bridge every code is an algoPIN, whose digits the lock's key decides.
      code_constraints: d.has_bridge ? [] : [{ constraint_type: 'cannot_specify_pin_code' }],
      ...(d.has_bridge ? { supported_code_lengths: ONLINE_CODE_LENGTHS } : {}),
      offline_time_frame_options: OFFLINE_TIME_FRAME_OPTIONS,
      has_native_entry_events: true,
    },
    location: d.time_zone ? { time_zone: d.time_zone } : {},
    device_provider: {
      device_provider_name: 'igloohome',
      display_name: 'igloohome',
      provider_category: 'stable',
    },
    device_manufacturer: { manufacturer: 'igloohome', display_name: 'igloohome' },
    connected_account_id: d.connected_account_id,
    workspace_id: d.workspace_id,
    errors,
    warnings,
    created_at,
    is_managed: true,
    custom_metadata: d.custom_metadata,
  };
}
