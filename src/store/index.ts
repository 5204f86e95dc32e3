import type { Kysely, Transaction } from 'kysely';
import { openPostgres } from './dialects/postgres.ts';
import { openSqlite } from './dialects/sqlite.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';

export type { Database } from './schema.ts';
export type Dialect = 'sqlite' | 'postgres';
/** A database handle or an open transaction: repository functions accept either. */
export type Db = Kysely<Database> | Transaction<Database>;

export interface Store {
  readonly db: Kysely<Database>;
  /**
   * The job runner's bookkeeping (claims, lease renewals, outcomes). On Postgres a small pool of its own: when
   * request transactions hold every connection of `db` (say, queued on a busy lock's row lock), a lease must
   * still be renewed, or another process takes the job over while this one is running it. On SQLite, `db`.
   */
  readonly jobsDb: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

/**
 * Opens the database named by a `DATABASE_URL`-style string and brings its schema up to date:
 * `sqlite:<path>`, `sqlite::memory:`, or `postgres://…` / `postgresql://…`.
 */
export async function openStore(url: string): Promise<Store> {
  const store = connect(url);
  try {
    await migrateToLatest(store.db as Kysely<unknown>);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Connections of the job runner's own Postgres pool: its statements are short and never wait on each other long. */
const JOBS_POOL_SIZE = 2;

function connect(url: string): Store {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const db = openPostgres(url);
    // pg connects lazily: a process that runs no jobs (the CLI) never opens this pool's connections.
    const jobsDb = openPostgres(url, JOBS_POOL_SIZE);
    return {
      db,
      jobsDb,
      dialect: 'postgres',
      close: async () => {
        await Promise.all([jobsDb.destroy(), db.destroy()]);
      },
    };
  }
  if (url.startsWith('sqlite:')) {
    // One connection, one writer: the runner shares it (nothing to starve, and a second would only contend).
    const { db, close } = openSqlite(url.slice('sqlite:'.length));
    return { db, jobsDb: db, dialect: 'sqlite', close };
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got "${url.split(':')[0]}:…")`);
}
