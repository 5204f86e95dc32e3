import type { Db, Dialect } from '../index.ts';

export async function insertVirtualLock(
  db: Db,
  deviceId: string,
  sealedState: string,
  now: number,
): Promise<void> {
  await db
    .insertInto('virtual_locks')
    .values({ device_id: deviceId, sealed_state: sealedState, updated_at: now })
    .execute();
}

/** Reads a lock's sealed state; on Postgres the row stays locked until the transaction ends (one keypad at a time). */
export async function getVirtualLockForUpdate(
  db: Db,
  dialect: Dialect,
  deviceId: string,
): Promise<string | null> {
  let q = db.selectFrom('virtual_locks').select('sealed_state').where('device_id', '=', deviceId);
  if (dialect === 'postgres') q = q.forUpdate();
  return (await q.executeTakeFirst())?.sealed_state ?? null;
}

export async function saveVirtualLock(
  db: Db,
  deviceId: string,
  sealedState: string,
  now: number,
): Promise<void> {
  await db
    .updateTable('virtual_locks')
    .set({ sealed_state: sealedState, updated_at: now })
    .where('device_id', '=', deviceId)
    .execute();
}
