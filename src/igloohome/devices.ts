import type { DeviceRecord } from '../domain/records.ts';
import { isoUtc } from '../domain/time.ts';

// A lock as igloohome's GET /devices lists it. Field names follow the igloohome-api Python client
// (keithle888/igloohome-api, GetDeviceInfoResponse); the values Latchkey fills in are its own (see
// docs/providers.md for what is known and what is inferred).

export interface IgloohomeDevice {
  /** igloohome's internal id; here the Latchkey device_id. */
  id: string;
  type: 'Lock';
  /** The id every other route takes: a numeric string. */
  deviceId: string;
  deviceName: string;
  pairedAt: string;
  homeId: string[];
  linkedDevices: { type: 'Bridge'; deviceId: string }[];
  batteryLevel: number;
}

export function toIgloohomeDevice(d: DeviceRecord): IgloohomeDevice {
  return {
    id: d.device_id,
    type: 'Lock',
    deviceId: d.provider_device_id,
    deviceName: d.name,
    pairedAt: isoUtc(d.created_at),
    homeId: [],
    // The same bridge id the Seam device reports (properties.igloohome_metadata.bridge_id).
    linkedDevices: d.has_bridge ? [{ type: 'Bridge', deviceId: `BR${d.provider_device_id}` }] : [],
    batteryLevel: 100,
  };
}
