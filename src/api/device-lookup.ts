import type { DeviceRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';
import { getDevice, getDeviceByName, getDeviceForUpdate } from '../store/repos/devices.ts';
import { invalidInput, notFound } from './errors.ts';
import type { RouteContext } from './route.ts';

/** `device_id` or `name`, as /devices/get and /locks/get take them; 404 `device_not_found` otherwise. */
export async function findDevice(
  ctx: RouteContext,
  input: { device_id?: string | undefined; name?: string | undefined },
): Promise<DeviceRecord> {
  if (input.device_id === undefined && input.name === undefined) {
    throw invalidInput('Either device_id or name is required.');
  }
  const device =
    input.device_id !== undefined
      ? await getDevice(ctx.store.db, ctx.workspace.workspace_id, input.device_id)
      : await getDeviceByName(ctx.store.db, ctx.workspace.workspace_id, input.name ?? '');
  if (!device) {
    throw notFound(
      'device',
      'Device not found.',
      input.device_id ? { device_id: input.device_id } : undefined,
    );
  }
  return device;
}

/** The device, its row locked for the rest of `tx` (changes on one device are serialized), or 404. */
export async function lockDevice(ctx: RouteContext, tx: Db, deviceId: string): Promise<DeviceRecord> {
  const device = await getDeviceForUpdate(tx, ctx.store.dialect, ctx.workspace.workspace_id, deviceId);
  if (!device) throw notFound('device', 'Device not found.', { device_id: deviceId });
  return device;
}
