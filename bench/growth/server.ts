// Child of bench/growth.ts: a Latchkey server from the environment (DATABASE_URL, LATCHKEY_MASTER_KEY, …), as
// `latchkey serve` runs it. Prints READY {url}. With GROWTH_CAPTURE_FILE set, every statement the drivers
// execute once it serves is captured (test/store/plans.ts) — with its first parameters, how often it ran and
// the time it took in all — and written there on SIGTERM. GROWTH_SQLITE_PRAGMAS (`cache_size = -65536;…`), an
// experiment's knob, is applied to each SQLite connection the server opens.

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type SqliteDatabase from 'better-sqlite3';
import { startServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config.ts';
import { captured, installStatementCapture } from '../../test/store/plans.ts';

const pragmas = (process.env.GROWTH_SQLITE_PRAGMAS ?? '').split(';').filter((p) => p.trim() !== '');
if (pragmas.length > 0) {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof SqliteDatabase;
  const prepare = Database.prototype.prepare;
  const done = new WeakSet<object>();
  Database.prototype.prepare = function withPragmas(this: SqliteDatabase.Database, ...args: [string]) {
    if (!done.has(this)) {
      done.add(this);
      for (const pragma of pragmas) this.pragma(pragma);
    }
    return prepare.apply(this, args);
  } as typeof prepare;
}

const captureFile = process.env.GROWTH_CAPTURE_FILE;
if (captureFile) installStatementCapture();
const server = await startServer(loadConfig(process.env));
// From here on: the start-up's migrations check and seeding run once per database, not per request.
captured.enabled = captureFile !== undefined;
process.stdout.write(`READY ${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', () => {
  if (captureFile) writeFileSync(captureFile, JSON.stringify([...captured.statements.values()]));
  void server
    .close()
    .catch(() => {})
    .finally(() => process.exit(0));
});
