import type { Kysely } from 'kysely';

// Indexes shaped after the access-code queries the API runs on every request (docs/benchmarks.md, API):
// - "is this PIN live on this lock?" (every create): with (device_id, code) SQLite preferred the
//   (device_id, removed_at, created_at) index for its ORDER BY and read every live code of the device to compare
//   PINs; (device_id, code, removed_at, created_at) is one seek, already in order.
// - a device's live codes, in list order (created_at, access_code_id): the device index lacked access_code_id,
//   so SQLite walked the workspace index instead and read every code of the workspace to find the device's.
// - a workspace's live codes, in list order: every workspace query asks for live codes only, so removed_at
//   goes before the order columns and years of removed codes are never read.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('access_codes_by_code').execute();
  await db.schema.dropIndex('access_codes_by_device').execute();
  await db.schema.dropIndex('access_codes_by_workspace').execute();
  await db.schema
    .createIndex('access_codes_by_pin')
    .on('access_codes')
    .columns(['device_id', 'code', 'removed_at', 'created_at'])
    .execute();
  await db.schema
    .createIndex('access_codes_live_by_device')
    .on('access_codes')
    .columns(['device_id', 'removed_at', 'created_at', 'access_code_id'])
    .execute();
  await db.schema
    .createIndex('access_codes_live_by_workspace')
    .on('access_codes')
    .columns(['workspace_id', 'removed_at', 'created_at', 'access_code_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('access_codes_by_pin').execute();
  await db.schema.dropIndex('access_codes_live_by_device').execute();
  await db.schema.dropIndex('access_codes_live_by_workspace').execute();
  await db.schema
    .createIndex('access_codes_by_code')
    .on('access_codes')
    .columns(['device_id', 'code'])
    .execute();
  await db.schema
    .createIndex('access_codes_by_device')
    .on('access_codes')
    .columns(['device_id', 'removed_at', 'created_at'])
    .execute();
  await db.schema
    .createIndex('access_codes_by_workspace')
    .on('access_codes')
    .columns(['workspace_id', 'created_at', 'access_code_id'])
    .execute();
}
