import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * The master key that seals lock keys at rest: `LATCHKEY_MASTER_KEY` (64 hex digits) when set, otherwise
 * `<dataDir>/master.key`, generated on first use with owner-only permissions. Several server processes on
 * one Postgres must share it (set the variable, or share the data directory).
 */
export function loadMasterKey(options: { fromEnv?: string | undefined; dataDir: string }): Buffer {
  if (options.fromEnv !== undefined) {
    if (!HEX_KEY.test(options.fromEnv))
      throw new Error('LATCHKEY_MASTER_KEY must be 64 hex digits (256 bits)');
    return Buffer.from(options.fromEnv, 'hex');
  }
  const path = join(options.dataDir, 'master.key');
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8').trim();
    if (!HEX_KEY.test(text)) throw new Error(`${path} must hold 64 hex digits`);
    return Buffer.from(text, 'hex');
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // `wx`: never overwrite a key another process wrote a moment ago (that would orphan its sealed rows).
  try {
    writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadMasterKey(options);
    throw error;
  }
  chmodSync(path, 0o600);
  return key;
}
