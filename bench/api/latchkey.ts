// Child: a Latchkey server from the environment (DATABASE_URL, LATCHKEY_BOOTSTRAP_API_KEY, …). Prints READY <url>.
// Exits on SIGTERM through process.exit so that --cpu-prof writes its profile.
// BENCH_TRACE_SQL=1 (SQLite only): counts the statements better-sqlite3 prepares, times their execution, and
// prints both on exit (stderr, a line starting with SQL).
import { createRequire } from 'node:module';
import { startServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config.ts';

const traced = new Map<string, number>();
const timed = new Map<string, number>();
if (process.env.BENCH_TRACE_SQL === '1') {
  const Database = createRequire(import.meta.url)('better-sqlite3') as {
    prototype: { prepare: (sql: string) => unknown };
  };
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function tracedPrepare(this: unknown, sql: string) {
    traced.set(sql, (traced.get(sql) ?? 0) + 1);
    const statement = prepare.call(this, sql) as Record<string, unknown>;
    const proto = Object.getPrototypeOf(statement) as Record<string, unknown>;
    if (!proto.__benchTimed) {
      proto.__benchTimed = true;
      for (const method of ['all', 'get', 'run', 'iterate']) {
        const original = proto[method] as (...a: unknown[]) => unknown;
        proto[method] = function timedRun(this: { source: string }, ...a: unknown[]) {
          const t = performance.now();
          try {
            return original.apply(this, a);
          } finally {
            timed.set(this.source, (timed.get(this.source) ?? 0) + performance.now() - t);
          }
        };
      }
    }
    return statement;
  };
}

const server = await startServer(loadConfig(process.env));
process.stdout.write(`READY ${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', () => {
  if (traced.size > 0) {
    const top = [...traced]
      .map(([sql, n]) => [sql, n, Math.round(timed.get(sql) ?? 0)] as const)
      .sort((a, b) => b[2] - a[2])
      .slice(0, 40);
    process.stderr.write(`SQL ${JSON.stringify(top)}\n`);
  }
  void server
    .close()
    .catch(() => {})
    .finally(() => process.exit(0));
});
