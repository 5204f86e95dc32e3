import { randomBytes } from 'node:crypto';
import { derivePin, derivePinKey, LOCK_KEY_BYTES, type PinParams } from '../algopin/index.ts';
import type { DeviceRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';
import { getSealedLockKey, insertLockKey } from '../store/repos/lock-keys.ts';
import type { CodeProvider } from './provider.ts';
import { open, seal } from './sealed-box.ts';

const keyContext = (deviceId: string, epoch: number) => `lock_key|${deviceId}|${epoch}`;

/** The code server inside Latchkey: random 256-bit lock keys, sealed under the master key. */
export class BuiltinCodeProvider implements CodeProvider {
  readonly name = 'builtin';

  constructor(private readonly masterKey: Uint8Array) {}

  async pairLock(db: Db, device: DeviceRecord, now: number): Promise<Uint8Array> {
    const lockKey = randomBytes(LOCK_KEY_BYTES);
    await insertLockKey(db, {
      device_id: device.device_id,
      epoch: device.key_epoch,
      sealed_key: seal(this.masterKey, lockKey, keyContext(device.device_id, device.key_epoch)),
      created_at: now,
    });
    return lockKey;
  }

  async issueOfflinePin(db: Db, device: DeviceRecord, params: PinParams): Promise<string> {
    const lockKey = await openLockKey(db, this.masterKey, device);
    if (lockKey === null)
      throw new Error(`lock ${device.device_id} has no key for epoch ${device.key_epoch}`);
    return derivePin(derivePinKey(lockKey, device.key_epoch), params);
  }
}

/**
 * The registry's own copy of a lock's key for its current epoch, unsealed (null when the lock has none).
 * Only the code server itself and the sandbox pairing extension (src/igloohome) may call this.
 */
export async function openLockKey(
  db: Db,
  masterKey: Uint8Array,
  device: Pick<DeviceRecord, 'device_id' | 'key_epoch'>,
): Promise<Buffer | null> {
  const sealed = await getSealedLockKey(db, device.device_id, device.key_epoch);
  return sealed === null ? null : open(masterKey, sealed, keyContext(device.device_id, device.key_epoch));
}
