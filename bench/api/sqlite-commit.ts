// Child: the single-row commit rate of the same SQLite setup as Latchkey (better-sqlite3, WAL, synchronous
// NORMAL, one small row per transaction). Prints RESULT {rps, p50, p99} in ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-commit-'));
const db = new SqliteDatabase(join(dir, 'commit.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(
  'CREATE TABLE t (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, starts_at INTEGER NOT NULL, name TEXT)',
);
const insert = db.prepare('INSERT INTO t (device_id, starts_at, name) VALUES (?, ?, ?)');
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const samples: number[] = [];
const end = performance.now() + seconds * 1000;
let n = 0;
const t0 = performance.now();
while (performance.now() < end) {
  const s = performance.now();
  begin.run();
  insert.run(`device_${n % 200}`, 1_900_000_000_000 + n * 3_600_000, `code ${n}`);
  commit.run();
  samples.push(performance.now() - s);
  n++;
}
const elapsed = (performance.now() - t0) / 1000;
samples.sort((a, b) => a - b);
const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0;
db.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`RESULT ${JSON.stringify({ rps: n / elapsed, p50: q(0.5), p99: q(0.99), count: n })}\n`);
