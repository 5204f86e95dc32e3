import { hkdfSync } from 'node:crypto';
import { AlgoPinKeyError } from './errors.ts';
import { HKDF_SALT, hkdfInfo, MAX_EPOCH } from './spec.ts';

export const LOCK_KEY_BYTES = 32;

/**
 * K_pin = HKDF-SHA256(ikm = lock key, salt = "latchkey-algopin-v1", info = "apin1|epoch=<decimal>", 32 bytes).
 * The epoch lets a lock's PIN key be rotated without changing the lock key itself (and vice versa).
 */
export function derivePinKey(lockKey: Uint8Array, epoch: number): Buffer {
  if (!(lockKey instanceof Uint8Array) || lockKey.length !== LOCK_KEY_BYTES) {
    throw new AlgoPinKeyError(
      `lock key must be ${LOCK_KEY_BYTES} bytes (256 bits), got ${describe(lockKey)}`,
    );
  }
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) {
    throw new AlgoPinKeyError(`epoch must be an integer in 0..${MAX_EPOCH}, got ${String(epoch)}`);
  }
  return Buffer.from(hkdfSync('sha256', lockKey, HKDF_SALT, hkdfInfo(epoch), 32));
}

/** Parse the documented key-file format: 64 hex digits (surrounding whitespace allowed). */
export function parseLockKeyHex(text: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new AlgoPinKeyError('a lock key is 64 hexadecimal digits (256 bits)');
  }
  return Buffer.from(hex, 'hex');
}

function describe(key: unknown): string {
  return key instanceof Uint8Array ? `${key.length} bytes` : typeof key;
}
