import type { Kysely } from 'kysely';

// "Is this PIN live on this lock?" runs on every create. With (device_id, code) SQLite preferred the
// (device_id, removed_at, created_at) index for its ORDER BY and read every live code of the device to compare
// PINs (the largest native cost of a create in the API profile). (device_id, code, removed_at, created_at)
// answers it with one index seek, already in order, and still serves "latest code with this PIN".
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('access_codes_by_code').execute();
  await db.schema
    .createIndex('access_codes_by_pin')
    .on('access_codes')
    .columns(['device_id', 'code', 'removed_at', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('access_codes_by_pin').execute();
  await db.schema
    .createIndex('access_codes_by_code')
    .on('access_codes')
    .columns(['device_id', 'code'])
    .execute();
}
