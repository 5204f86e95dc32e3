import type { Kysely } from 'kysely';

// The igloohome-compatible API (src/igloohome): OAuth2 clients per workspace (the secret only as its SHA-256),
// and a record of every algoPIN issued through it (parameters only, never the PIN digits). Access tokens are
// stateless (HMAC-signed), so there is no token table.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('igloohome_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.workspace_id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('igloohome_clients_by_workspace')
    .on('igloohome_clients')
    .columns(['workspace_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('igloohome_pins')
    .addColumn('pin_id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.workspace_id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.device_id'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('start_hour', 'bigint', (c) => c.notNull())
    .addColumn('duration_hours', 'integer')
    .addColumn('duration_days', 'integer')
    .addColumn('variance', 'integer', (c) => c.notNull())
    .addColumn('access_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('igloohome_pins_by_device')
    .on('igloohome_pins')
    .columns(['device_id', 'created_at'])
    .execute();

  // GET /igloohome/devices/{deviceId} finds a lock by igloohome's own id inside the client's workspace.
  await db.schema
    .createIndex('devices_by_provider_id')
    .on('devices')
    .columns(['workspace_id', 'provider_device_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('devices_by_provider_id').execute();
  await db.schema.dropTable('igloohome_pins').execute();
  await db.schema.dropTable('igloohome_clients').execute();
}
