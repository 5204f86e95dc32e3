import { randomInt, randomUUID } from 'node:crypto';
import type { DeviceRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';
import { insertDevice } from '../store/repos/devices.ts';
import type { Services } from './services.ts';
import { installVirtualLock } from './virtual-locks.ts';

export interface NewLock {
  workspace_id: string;
  connected_account_id: string;
  name: string;
  has_bridge: boolean;
  time_zone?: string | null | undefined;
  /** The lock's id at its code server (igloohome deviceId); a random numeric one when the lock is new. */
  provider_device_id?: string | undefined;
  now: number;
}

/**
 * Adds a virtual igloohome lock (the sandbox's stand-in for a paired real one): the code server creates its
 * key, and the virtual lock receives the same key, as a real lock does at Bluetooth pairing.
 */
export async function createVirtualLock(
  services: Pick<Services, 'providers' | 'masterKey'>,
  db: Db,
  input: NewLock,
): Promise<DeviceRecord> {
  const device = lockRecord(input);
  await insertDevice(db, device);
  const provider = await services.providers.forDevice(db, device);
  const lockKey = await provider.pairLock(db, device, input.now);
  await installVirtualLock(db, services.masterKey, device, lockKey, input.now);
  return device;
}

/** The device row of an igloohome lock (real or virtual). */
export function lockRecord(input: NewLock): DeviceRecord {
  return {
    device_id: randomUUID(),
    workspace_id: input.workspace_id,
    connected_account_id: input.connected_account_id,
    device_type: 'igloohome_lock',
    name: input.name,
    model_name: input.has_bridge ? 'igloohome Smart Deadbolt 02 with Bridge' : 'igloohome Smart Deadbolt 02',
    has_bridge: input.has_bridge,
    bridge_online: input.has_bridge,
    time_zone: input.time_zone ?? null,
    // igloohome device ids are numeric strings (e.g. "545636388").
    provider_device_id: input.provider_device_id ?? String(randomInt(100_000_000, 1_000_000_000)),
    key_epoch: 0,
    custom_metadata: {},
    created_at: input.now,
  };
}
