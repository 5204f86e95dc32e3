import type { Db } from '../index.ts';
import { precompiled } from '../precompiled.ts';
import type { LockKeyTable } from '../schema.ts';

export async function insertLockKey(db: Db, row: LockKeyTable): Promise<void> {
  await db.insertInto('lock_keys').values(row).execute();
}

const sealedKey = precompiled((db, p: { deviceId: string; epoch: number }) =>
  db
    .selectFrom('lock_keys')
    .select('sealed_key')
    .where('device_id', '=', p.deviceId)
    .where('epoch', '=', p.epoch),
);

export async function getSealedLockKey(db: Db, deviceId: string, epoch: number): Promise<string | null> {
  const [row] = (await sealedKey(db, { deviceId, epoch })).rows;
  return row?.sealed_key ?? null;
}
