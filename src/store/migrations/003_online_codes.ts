import type { Kysely } from 'kysely';

// Online codes are programmed on the lock through its bridge. The server keeps what it wants on the lock
// (`code`, the time frame, `delete_requested`) apart from what the lock holds (`programmed_code`), and a
// bridge job reconciles the two. Jobs name their device, so a bridge's waiting jobs can be woken together.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('access_codes').addColumn('programmed_code', 'text').execute();
  await db.schema
    .alterTable('access_codes')
    .addColumn('delete_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('jobs').addColumn('device_id', 'text').execute();
  await db.schema.createIndex('jobs_by_device').on('jobs').columns(['device_id', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_by_device').execute();
  await db.schema.alterTable('jobs').dropColumn('device_id').execute();
  await db.schema.alterTable('access_codes').dropColumn('delete_requested').execute();
  await db.schema.alterTable('access_codes').dropColumn('programmed_code').execute();
}
