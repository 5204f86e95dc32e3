import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openStore } from '../../src/store/index.ts';

// SQLite checkpoints run on a worker thread (src/store/dialects/sqlite.ts), not inside a request's commit. The
// main connection's own automatic checkpoint only starts at 20,000 WAL pages, so pages reaching the database
// file well before that were copied by the checkpointer.

it('copies committed pages from the WAL into the database file off the request path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-checkpoint-'));
  const file = join(dir, 'db.sqlite');
  const store = await openStore(`sqlite:${file}`);
  try {
    await sql`create table filler (id integer primary key, body text not null)`.execute(store.db);
    const sizeBefore = statSync(file).size;
    // ~2,000 pages of 4 KiB in 200 small transactions, far below the 20,000-page backstop.
    const body = 'x'.repeat(40_000);
    for (let i = 0; i < 200; i++) await sql`insert into filler (body) values (${body})`.execute(store.db);
    assert.ok(statSync(`${file}-wal`).size > 4_000_000, 'the commits went to the WAL');
    let sizeAfter = statSync(file).size;
    for (let waited = 0; sizeAfter < sizeBefore + 4_000_000 && waited < 10_000; waited += 50) {
      await sleep(50);
      sizeAfter = statSync(file).size;
    }
    assert.ok(
      sizeAfter >= sizeBefore + 4_000_000,
      `database file grew from ${sizeBefore} to ${sizeAfter} bytes`,
    );
    const [row] = (await sql<{ n: number }>`select count(*) as n from filler`.execute(store.db)).rows;
    assert.equal(Number(row?.n), 200);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('closes every connection to the file before close() resolves (the WAL is checkpointed and removed)', async () => {
  for (let round = 0; round < 5; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-checkpoint-close-'));
    const file = join(dir, 'db.sqlite');
    const store = await openStore(`sqlite:${file}`);
    await sql`create table t (id integer primary key)`.execute(store.db);
    await sql`insert into t (id) values (1)`.execute(store.db);
    await store.close();
    assert.deepEqual(
      readdirSync(dir).filter((f) => f !== 'db.sqlite'),
      [],
      'no -wal or -shm file left: no connection is open',
    );
    rmSync(dir, { recursive: true });
  }
});
