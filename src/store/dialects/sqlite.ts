import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { groupCommitSqliteDialect } from './sqlite-group-commit.ts';

/**
 * `path` is a file path or `:memory:`. WAL keeps readers off the writer's back; one process owns the file.
 * `close` resolves once every connection to the file is closed (the checkpointer's too), so its files can go.
 */
export function openSqlite(path: string): { db: Kysely<Database>; close(): Promise<void> } {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SqliteDatabase(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // Instants are stored as integer milliseconds; keep them JavaScript numbers.
  database.defaultSafeIntegers(false);
  const checkpointer = path === ':memory:' ? null : startCheckpointer(database, path);
  const db = new Kysely<Database>({ dialect: groupCommitSqliteDialect(database) });
  return {
    db,
    // The checkpointer first: the last connection to close checkpoints the WAL and removes it.
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/** How often the checkpointer copies the WAL back into the database file. */
const CHECKPOINT_INTERVAL_MS = 250;
/** Past this many WAL pages a commit checkpoints by itself (the backstop should the checkpointer fall behind). */
const BACKSTOP_CHECKPOINT_PAGES = 20_000;

/**
 * WAL checkpoints on a worker thread with its own connection. By default SQLite checkpoints inside the commit
 * that fills 1000 pages of WAL: a create writes ~15 pages, so one request in ~70 paid for copying the WAL back
 * and syncing the file, on the event loop (the API's p99). PASSIVE checkpoints never block the writer.
 */
function startCheckpointer(database: SqliteDatabase.Database, path: string): { stop(): Promise<void> } {
  database.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  // Keep a WAL that was reset after a checkpoint from staying at its largest size on disk.
  database.pragma('journal_size_limit = 67108864');
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: {
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      path,
      intervalMs: CHECKPOINT_INTERVAL_MS,
    },
  });
  // Never what keeps a process alive, and never a reason for one to fail: the backstop still checkpoints.
  worker.unref();
  worker.on('error', () => {});
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop: async () => {
      worker.postMessage('stop');
      // A checkpoint in progress finishes first; a worker that does not answer is ended.
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;
