import { open, seal } from '../codeserver/sealed-box.ts';
import type { DeviceRecord } from '../domain/records.ts';
import { VirtualLock } from '../lock/index.ts';
import type { Db } from '../store/index.ts';
import { getVirtualLockForUpdate, insertVirtualLock, saveVirtualLock } from '../store/repos/virtual-locks.ts';
import type { Services } from './services.ts';

// The sandbox's locks keep their flash memory (key, clock, activated codes, one-time memory, lockout) in the
// database, sealed like the lock keys: a server restart is a power cycle, and nothing is forgotten.

const stateContext = (deviceId: string) => `virtual_lock|${deviceId}`;

/** Pairing: the lock receives its key, and its clock is set to the workspace's time. */
export async function installVirtualLock(
  db: Db,
  masterKey: Uint8Array,
  device: DeviceRecord,
  lockKey: Uint8Array,
  now: number,
): Promise<void> {
  const lock = VirtualLock.create({ lockKey, epoch: device.key_epoch });
  await insertVirtualLock(
    db,
    device.device_id,
    seal(masterKey, Buffer.from(lock.serialize()), stateContext(device.device_id)),
    now,
  );
}

/**
 * Powers the lock on from its stored state, lets `operate` use it, and stores what it remembers afterwards
 * (inside the caller's transaction, so the lock's memory and the server's records change together).
 */
export async function operateVirtualLock<T>(
  services: Pick<Services, 'store' | 'masterKey'>,
  tx: Db,
  deviceId: string,
  now: number,
  operate: (lock: VirtualLock) => T,
): Promise<T> {
  const sealed = await getVirtualLockForUpdate(tx, services.store.dialect, deviceId);
  if (sealed === null) throw new Error(`device ${deviceId} has no virtual lock`);
  const lock = VirtualLock.restore(open(services.masterKey, sealed, stateContext(deviceId)).toString('utf8'));
  const result = operate(lock);
  await saveVirtualLock(
    tx,
    deviceId,
    seal(services.masterKey, Buffer.from(lock.serialize()), stateContext(deviceId)),
    now,
  );
  return result;
}
