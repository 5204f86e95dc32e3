import { type Kysely, sql } from 'kysely';

// Indexes for the statements test/store/query-plans.test.ts found reading a share of a table that grows with
// use (issue 9, "Growth": 1 000 000 codes over 10 000 locks in one workspace). Without statistics (SQLite
// never has them here) a planner takes `workspace_id = ?` for a narrow key, and to spare a sort it walked a
// workspace-wide index — every event or attempt of the workspace — to find one lock's. Each index below gives
// its statements both their key and their ORDER BY. (The access-code list and PIN lookups are migration 009's.)
//
//   access_codes_live_by_common_key  new, partial   online create with common_code_key (was: every code of
//                                                   the workspace, in creation order, to find one key)
//   events_by_workspace         created_at for occurred_at   /events/list filters and orders by created_at
//                                                   (was: every event of the workspace, sorted)
//   events_by_device            new                 /events/list?device_id= (Postgres; see the plan test)
//   action_attempts_by_device   new                 /action_attempts/list?device_id= (was: the workspace's)
//   devices_by_provider_id      + created_at        igloohome API lookups (its ORDER BY made SQLite walk the
//                                                   workspace's locks instead)
//   devices_by_name             new                 /devices/get?name= (was: the workspace's locks)
//   webhooks_live_by_workspace  partial, ordered    the live webhooks, read for every event recorded (sorted)
//   webhook_deliveries_by_webhook  + delivery_id    /webhooks/deliveries/list in its full order
//   webhook_deliveries_by_webhook_status  new       /webhooks/deliveries/list?status= (was: every delivery of
//                                                   the webhook, newest first, until `limit` matched)
//
// Partial indexes (`… is null`) give Postgres the ORDER BY: it does not take `x IS NULL` in an index key as a
// constant, so it would sort. Replaced indexes keep their names where their use is the same.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Partial: only live codes that share a PIN across locks (few); offline codes never have a key.
  await db.schema
    .createIndex('access_codes_live_by_common_key')
    .on('access_codes')
    .columns(['workspace_id', 'common_code_key', 'created_at'])
    .where(sql<boolean>`common_code_key is not null and removed_at is null`)
    .execute();

  await db.schema.dropIndex('events_by_workspace').execute();
  await db.schema
    .createIndex('events_by_workspace')
    .on('events')
    .columns(['workspace_id', 'created_at', 'event_id'])
    .execute();
  await db.schema
    .createIndex('events_by_device')
    .on('events')
    .columns(['device_id', 'created_at', 'event_id'])
    .execute();

  await db.schema
    .createIndex('action_attempts_by_device')
    .on('action_attempts')
    .columns(['device_id', 'created_at', 'action_attempt_id'])
    .execute();

  await db.schema.dropIndex('devices_by_provider_id').execute();
  await db.schema
    .createIndex('devices_by_provider_id')
    .on('devices')
    .columns(['workspace_id', 'provider_device_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('devices_by_name')
    .on('devices')
    .columns(['workspace_id', 'name', 'created_at'])
    .execute();

  await db.schema.dropIndex('webhooks_by_workspace').execute();
  await db.schema
    .createIndex('webhooks_live_by_workspace')
    .on('webhooks')
    .columns(['workspace_id', 'created_at', 'webhook_id'])
    .where(sql<boolean>`deleted_at is null`)
    .execute();
  await db.schema.dropIndex('webhook_deliveries_by_webhook').execute();
  await db.schema
    .createIndex('webhook_deliveries_by_webhook')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'created_at', 'delivery_id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_by_webhook_status')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'status', 'created_at', 'delivery_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of [
    'access_codes_live_by_common_key',
    'events_by_workspace',
    'events_by_device',
    'action_attempts_by_device',
    'devices_by_provider_id',
    'devices_by_name',
    'webhooks_live_by_workspace',
    'webhook_deliveries_by_webhook',
    'webhook_deliveries_by_webhook_status',
  ]) {
    await db.schema.dropIndex(name).execute();
  }
  const restore: [string, string, string[]][] = [
    ['events_by_workspace', 'events', ['workspace_id', 'occurred_at', 'event_id']],
    ['devices_by_provider_id', 'devices', ['workspace_id', 'provider_device_id']],
    ['webhooks_by_workspace', 'webhooks', ['workspace_id', 'deleted_at']],
    ['webhook_deliveries_by_webhook', 'webhook_deliveries', ['webhook_id', 'created_at']],
  ];
  for (const [name, table, columns] of restore) {
    await db.schema.createIndex(name).on(table).columns(columns).execute();
  }
}
