import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Secrets at rest (lock keys, virtual lock memory) are sealed with AES-256-GCM under the master key.
// The associated data binds a ciphertext to its row (e.g. "lock_key|<device_id>|<epoch>"), so a sealed key
// copied onto another lock's row fails to open instead of silently serving the wrong lock.
// Format: "v1." + base64url(iv[12] ‖ tag[16] ‖ ciphertext).

const VERSION = 'v1.';

export function seal(masterKey: Uint8Array, plaintext: Uint8Array, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return VERSION + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

export function open(masterKey: Uint8Array, sealed: string, associatedData: string): Buffer {
  if (!sealed.startsWith(VERSION)) throw new Error('sealed value has an unknown format');
  const raw = Buffer.from(sealed.slice(VERSION.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', masterKey, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
}
