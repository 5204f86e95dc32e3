import type { Kysely } from 'kysely';

// A connected account may use a remote igloohome-style code server instead of the built-in one: its base URL
// and client credentials, sealed under the master key (null: the built-in code server).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connected_accounts').addColumn('sealed_provider_config', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connected_accounts').dropColumn('sealed_provider_config').execute();
}
