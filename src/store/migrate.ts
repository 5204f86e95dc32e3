import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as m001 from './migrations/001_foundation.ts';
import * as m002 from './migrations/002_access_codes.ts';
import * as m003 from './migrations/003_online_codes.ts';
import * as m004 from './migrations/004_webhooks.ts';
import * as m005 from './migrations/005_igloohome_clients.ts';
import * as m006 from './migrations/006_remote_providers.ts';
import * as m007 from './migrations/007_job_due_index.ts';
import * as m008 from './migrations/008_hot_query_indexes.ts';
import * as m009 from './migrations/009_access_code_lookups.ts';
import * as m010 from './migrations/010_live_code_indexes.ts';
import * as m011 from './migrations/011_jobs_index_diet.ts';

// Migrations are listed here (not read from disk) so they run the same under tsx, in a bundle or in tests.
// Unordered migrations are allowed: 006 landed before 005, and a database that ran 006 first must still start.
const migrations: Record<string, Migration> = {
  '001_foundation': m001,
  '002_access_codes': m002,
  '003_online_codes': m003,
  '004_webhooks': m004,
  '005_igloohome_clients': m005,
  '006_remote_providers': m006,
  '007_job_due_index': m007,
  '008_hot_query_indexes': m008,
  '009_access_code_lookups': m009,
  '010_live_code_indexes': m010,
  '011_jobs_index_diet': m011,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const { error, results } = await new Migrator({
    db,
    provider,
    allowUnorderedMigrations: true,
  }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
