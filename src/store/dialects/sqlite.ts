import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.ts';

/** `path` is a file path or `:memory:`. WAL keeps readers off the writer's back; one process owns the file. */
export function openSqlite(path: string): Kysely<Database> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SqliteDatabase(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // Instants are stored as integer milliseconds; keep them JavaScript numbers.
  database.defaultSafeIntegers(false);
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
}
