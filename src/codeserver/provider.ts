import type { PinParams } from '../algopin/index.ts';
import type { DeviceRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';

/**
 * A code server: the registry of lock keys and the issuer of offline PINs. The built-in one keeps keys in
 * this database; a remote one (igloohome's cloud or another Latchkey) can be plugged in behind the same
 * interface.
 */
export interface CodeProvider {
  readonly name: string;
  /**
   * A new lock is paired: create and store its key. Returns the key the lock itself receives (over an
   * authenticated Bluetooth session in real life; the virtual lock's memory in the sandbox).
   */
  pairLock(db: Db, device: DeviceRecord, now: number): Promise<Uint8Array>;
  /** The PIN for these parameters, or null when it arrives later (a remote server answers asynchronously). */
  issueOfflinePin(db: Db, device: DeviceRecord, params: PinParams): Promise<string | null>;
}
