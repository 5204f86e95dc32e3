import { randomBytes } from 'node:crypto';
import { derivePin, derivePinKey, LOCK_KEY_BYTES, type PinParams } from '../algopin/index.ts';
import type { DeviceRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';
import { getSealedLockKey, insertLockKey } from '../store/repos/lock-keys.ts';
import type { CodeProvider } from './provider.ts';
import { open, seal } from './sealed-box.ts';

const keyContext = (deviceId: string, epoch: number) => `lock_key|${deviceId}|${epoch}`;

/** Enough for every lock a busy server issues codes for within minutes; 64 bytes of key material each. */
const PIN_KEY_CACHE_SIZE = 10_000;

/** The code server inside Latchkey: random 256-bit lock keys, sealed under the master key. */
export class BuiltinCodeProvider implements CodeProvider {
  readonly name = 'builtin';

  /**
   * PIN keys by `device|epoch`, with the sealed lock key they came from: unsealing and HKDF were a tenth of a
   * create's CPU time. The sealed key is still read on every issue, so a re-paired lock (new sealed key) is
   * never served from a stale entry. The master key already lives in this process; these are derived from it.
   */
  private readonly pinKeys = new Map<string, { sealed: string; pinKey: Buffer }>();

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
    const { device_id, key_epoch } = device;
    const sealed = await getSealedLockKey(db, device_id, key_epoch);
    if (sealed === null) throw new Error(`lock ${device_id} has no key for epoch ${key_epoch}`);
    const cacheKey = `${device_id}|${key_epoch}`;
    let cached = this.pinKeys.get(cacheKey);
    if (cached?.sealed !== sealed) {
      const lockKey = open(this.masterKey, sealed, keyContext(device_id, key_epoch));
      cached = { sealed, pinKey: derivePinKey(lockKey, key_epoch) };
      lockKey.fill(0);
      this.pinKeys.delete(cacheKey);
      this.pinKeys.set(cacheKey, cached);
      // Oldest first out beyond the bound (a Map iterates in insertion order).
      if (this.pinKeys.size > PIN_KEY_CACHE_SIZE) {
        const oldest = this.pinKeys.keys().next().value;
        if (oldest !== undefined) this.pinKeys.delete(oldest);
      }
    }
    return derivePin(cached.pinKey, params);
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
