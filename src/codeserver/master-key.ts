import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Db } from '../store/index.ts';
import { getMeta, insertMetaIfAbsent, oldestLockKey } from '../store/repos/meta.ts';
import { openLockKey } from './builtin.ts';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * The master key that seals lock keys at rest: `LATCHKEY_MASTER_KEY` (64 hex digits) when set, otherwise
 * `<dataDir>/master.key`, generated on first use with owner-only permissions. Several server processes on
 * one Postgres must share it (set the variable, or share the data directory); `verifyMasterKey` refuses a
 * process whose key is not the one the database recorded.
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

/** The `meta` row holding the fingerprint of the master key this database's secrets are sealed under. */
export const MASTER_KEY_CHECK = 'master_key_check';

const FINGERPRINT_LABEL = 'latchkey master key check v1';

/**
 * `v1.` + hex HMAC-SHA256(master key, "latchkey master key check v1"). It tells keys apart and nothing more:
 * it does not lead back to the key, and whoever can read the database can already test a guessed key against
 * any sealed row.
 */
export function masterKeyFingerprint(masterKey: Uint8Array): string {
  return `v1.${createHmac('sha256', masterKey).update(FINGERPRINT_LABEL, 'utf8').digest('hex')}`;
}

/** Where a process's master key came from (the configuration; only whether the variable is set is used). */
export interface MasterKeySource {
  masterKey?: string | undefined;
  dataDir: string;
}

const FIX =
  'Every process on one database must use the same master key: set LATCHKEY_MASTER_KEY to the 64 hex digits ' +
  'the other processes use (their LATCHKEY_MASTER_KEY, or the contents of their $LATCHKEY_DATA_DIR/master.key). ' +
  'Nothing in the database was changed.';

function describeSource(source: MasterKeySource | undefined): string {
  if (!source) return 'This master key';
  return source.masterKey !== undefined
    ? 'The master key in LATCHKEY_MASTER_KEY'
    : `The master key in ${resolve(source.dataDir, 'master.key')} (LATCHKEY_MASTER_KEY is unset)`;
}

/**
 * Start-up check that this process seals and opens secrets under the same master key as every other process on
 * the database; throws (changing nothing) when it does not. The first start records the key's fingerprint in
 * `meta`; later starts compare. A database without a fingerprint (made before this check existed) gets one,
 * but only from a key that opens the lock key sealed first. Race-safe on Postgres: the fingerprint is inserted
 * only if absent and then read back, so processes starting together with one key all pass, and with different
 * keys exactly one key wins.
 */
export async function verifyMasterKey(
  db: Db,
  masterKey: Uint8Array,
  source?: MasterKeySource,
): Promise<'recorded' | 'matched'> {
  const fingerprint = masterKeyFingerprint(masterKey);
  let stored = await getMeta(db, MASTER_KEY_CHECK);
  let recorded = false;
  if (stored === null) {
    const sample = await oldestLockKey(db);
    if (sample && !(await opensLockKey(db, masterKey, sample))) {
      throw new Error(
        `${describeSource(source)} does not open the secrets already sealed in this database (the lock key of ` +
          `device ${sample.device_id}; the database has no master key fingerprint yet). ${FIX}`,
      );
    }
    recorded = await insertMetaIfAbsent(db, MASTER_KEY_CHECK, fingerprint);
    stored = await getMeta(db, MASTER_KEY_CHECK);
  }
  if (stored === null || !sameText(stored, fingerprint)) {
    throw new Error(
      `${describeSource(source)} is not the master key this database's secrets are sealed under (the ` +
        `database recorded another key's fingerprint when it was first used). ${FIX}`,
    );
  }
  return recorded ? 'recorded' : 'matched';
}

/** Whether the key opens that lock's sealed key (AES-GCM authenticates: a wrong key fails, never misreads). */
async function opensLockKey(
  db: Db,
  masterKey: Uint8Array,
  lock: { device_id: string; key_epoch: number },
): Promise<boolean> {
  let lockKey: Buffer | null;
  try {
    lockKey = await openLockKey(db, masterKey, lock);
  } catch (error) {
    if (error instanceof Error && /unable to authenticate data|unknown format/.test(error.message))
      return false;
    throw error;
  }
  lockKey?.fill(0);
  return true;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
