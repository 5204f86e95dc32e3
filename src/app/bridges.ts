import type { DeviceRecord } from '../domain/records.ts';
import { HUB_DISCONNECTED } from '../domain/seam/device.ts';
import { deviceConnected, deviceDisconnected } from '../domain/seam/events.ts';
import type { Db } from '../store/index.ts';
import { setBridgeOnline } from '../store/repos/devices.ts';
import { wakeParkedJobs } from '../store/repos/jobs.ts';
import { recordEvents, stampAt } from './events.ts';

/**
 * A lock's bridge goes off-line or comes back. Back on-line, every bridge job that waited for it becomes due
 * at once, in the order the jobs were made. Returns whether anything changed.
 */
export async function setBridgeConnectivity(
  tx: Db,
  device: DeviceRecord,
  online: boolean,
  now: number,
): Promise<boolean> {
  if (device.bridge_online === online) return false;
  await setBridgeOnline(tx, device.device_id, online);
  await recordEvents(tx, [
    online
      ? deviceConnected(stampAt(now), device)
      : deviceDisconnected(stampAt(now), device, HUB_DISCONNECTED),
  ]);
  if (online) await wakeParkedJobs(tx, device.device_id, now);
  return true;
}
