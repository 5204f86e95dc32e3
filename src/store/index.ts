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
  readonly dialect: Dialect;
  close(): Promise<void>;
}

/**
 * Opens the database named by a `DATABASE_URL`-style string and brings its schema up to date:
 * `sqlite:<path>`, `sqlite::memory:`, or `postgres://…` / `postgresql://…`.
 */
export async function openStore(url: string): Promise<Store> {
  const { db, dialect, close } = connect(url);
  try {
    await migrateToLatest(db as Kysely<unknown>);
  } catch (error) {
    await close();
    throw error;
  }
  return { db, dialect, close };
}

function connect(url: string): { db: Kysely<Database>; dialect: Dialect; close(): Promise<void> } {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const db = openPostgres(url);
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  if (url.startsWith('sqlite:')) {
    return { ...openSqlite(url.slice('sqlite:'.length)), dialect: 'sqlite' };
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got "${url.split(':')[0]}:…")`);
}
