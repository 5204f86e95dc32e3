import type { Db } from '../index.ts';
import type { LockKeyTable } from '../schema.ts';

export async function insertLockKey(db: Db, row: LockKeyTable): Promise<void> {
  await db.insertInto('lock_keys').values(row).execute();
}

export async function getSealedLockKey(db: Db, deviceId: string, epoch: number): Promise<string | null> {
  const row = await db
    .selectFrom('lock_keys')
    .select('sealed_key')
    .where('device_id', '=', deviceId)
    .where('epoch', '=', epoch)
    .executeTakeFirst();
  return row?.sealed_key ?? null;
}
