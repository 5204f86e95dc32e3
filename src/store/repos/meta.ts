import type { Db } from '../index.ts';

// One-off facts about the database itself, as key/value rows: when first-start seeding happened, the
// fingerprint of the master key its secrets are sealed under.

export async function getMeta(db: Db, key: string): Promise<string | null> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value ?? null;
}

/**
 * Inserts the row unless one with this key exists; true when this call inserted it. Race-safe: the primary key
 * decides, and nothing is ever overwritten.
 */
export async function insertMetaIfAbsent(db: Db, key: string, value: string): Promise<boolean> {
  const result = await db
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The lock whose key was sealed first (device and epoch), to check a master key against; null: none yet. */
export async function oldestLockKey(db: Db): Promise<{ device_id: string; key_epoch: number } | null> {
  const row = await db
    .selectFrom('lock_keys')
    .select(['device_id', 'epoch'])
    .orderBy('created_at')
    .orderBy('device_id')
    .limit(1)
    .executeTakeFirst();
  return row ? { device_id: row.device_id, key_epoch: row.epoch } : null;
}
