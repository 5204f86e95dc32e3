import type { Kysely } from 'kysely';

// Offline access codes (and, later, online ones), the code server's lock keys, the virtual locks' persistent
// state, and the event log.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The code server's key registry: one sealed (AES-256-GCM) 256-bit key per lock and key epoch.
  await db.schema
    .createTable('lock_keys')
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.device_id'))
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('sealed_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('lock_keys_pk', ['device_id', 'epoch'])
    .execute();
  await db.schema
    .alterTable('devices')
    .addColumn('key_epoch', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  // A sandbox lock's own flash memory (its key, clock, tables, lockout), sealed like the keys.
  await db.schema
    .createTable('virtual_locks')
    .addColumn('device_id', 'text', (c) => c.primaryKey().references('devices.device_id'))
    .addColumn('sealed_state', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('access_codes')
    .addColumn('access_code_id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.workspace_id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.device_id'))
    .addColumn('name', 'text')
    .addColumn('code', 'text')
    .addColumn('common_code_key', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('is_offline', 'integer', (c) => c.notNull())
    .addColumn('is_one_time_use', 'integer', (c) => c.notNull())
    .addColumn('starts_at', 'bigint')
    .addColumn('ends_at', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('slot_key', 'text')
    .addColumn('variance', 'integer')
    .addColumn('warnings', 'text', (c) => c.notNull())
    .addColumn('errors', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('removed_at', 'bigint')
    .execute();
  // The database, not a process, guarantees one code per (device, slot, variance): two server processes
  // racing for the last variance of a slot cannot both win. Removed codes keep their variance (a PIN that was
  // deleted over Bluetooth stays on the lock's revocation list, so it must never be issued again).
  await db.schema
    .createIndex('access_codes_slot_variance')
    .on('access_codes')
    .columns(['device_id', 'slot_key', 'variance'])
    .unique()
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
  await db.schema
    .createIndex('access_codes_by_code')
    .on('access_codes')
    .columns(['device_id', 'code'])
    .execute();

  // The event log: a few indexed columns for filters, the Seam event object as JSON.
  await db.schema
    .createTable('events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.workspace_id'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text')
    .addColumn('access_code_id', 'text')
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('events_by_workspace')
    .on('events')
    .columns(['workspace_id', 'occurred_at', 'event_id'])
    .execute();
  await db.schema.createIndex('events_by_access_code').on('events').columns(['access_code_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['events', 'access_codes', 'virtual_locks', 'lock_keys'])
    await db.schema.dropTable(t).execute();
  await db.schema.alterTable('devices').dropColumn('key_epoch').execute();
}
