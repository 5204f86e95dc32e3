import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import {
  type GroupCommitOptions,
  groupCommitSqliteDialect,
} from '../../src/store/dialects/sqlite-group-commit.ts';

// Group commit (src/store/dialects/sqlite-group-commit.ts): concurrent transactions share one COMMIT, yet each
// caller learns of its transaction only once it is durable, and one caller's failure is its own.

interface Tables {
  parent: { id: number };
  child: { id: number; parent_id: number };
  note: { id: number; body: string };
}

describe('SQLite group commit', () => {
  let dir: string;
  let file: string;
  let db: Kysely<Tables>;
  let commits: number;
  /** A second connection to the same file: it sees only what was committed. */
  let observer: SqliteDatabase.Database;

  const open = async (options: Partial<GroupCommitOptions> = {}) => {
    const database = new SqliteDatabase(file);
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    const prepare = database.prepare.bind(database);
    database.prepare = ((source: string) => {
      const statement = prepare(source);
      if (source !== 'COMMIT') return statement;
      const run = statement.run.bind(statement);
      statement.run = ((...args: unknown[]) => {
        commits += 1;
        return run(...(args as []));
      }) as typeof statement.run;
      return statement;
    }) as typeof database.prepare;
    db = new Kysely<Tables>({ dialect: groupCommitSqliteDialect(database, options) });
    await sql`create table parent (id integer primary key)`.execute(db);
    await sql`create table child (id integer primary key,
      parent_id integer not null references parent (id) deferrable initially deferred)`.execute(db);
    await sql`create table note (id integer primary key, body text not null)`.execute(db);
    observer = new SqliteDatabase(file, { readonly: true });
    commits = 0;
  };
  const committedNotes = () =>
    (observer.prepare('select id from note order by id').all() as { id: number }[]).map((r) => r.id);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-group-commit-'));
    file = join(dir, 'db.sqlite');
  });
  afterEach(async () => {
    observer?.close();
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('concurrent transactions share commits, and each resolves only once its rows are committed', async () => {
    await open();
    const seenCommitted: boolean[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db
          .transaction()
          .execute(async (tx) => {
            await tx
              .insertInto('note')
              .values({ id: i, body: `note ${i}` })
              .execute();
            await tx.selectFrom('note').select('id').execute();
          })
          .then(() => seenCommitted.push(committedNotes().includes(i))),
      ),
    );
    assert.deepEqual(seenCommitted, Array(20).fill(true), 'every caller saw its row committed');
    assert.deepEqual(
      committedNotes(),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.ok(commits < 20, `20 transactions took ${commits} commits`);
  });

  it('a transaction that fails rolls back alone: the others in its group are committed', async () => {
    await open();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        db.transaction().execute(async (tx) => {
          await tx
            .insertInto('note')
            .values({ id: i, body: `note ${i}` })
            .execute();
          if (i % 2 === 1) throw new Error(`refused ${i}`);
        }),
      ),
    );
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok')),
      ['ok', 'refused 1', 'ok', 'refused 3', 'ok', 'refused 5'],
    );
    assert.deepEqual(committedNotes(), [0, 2, 4]);
    assert.ok(commits < 6, `6 transactions took ${commits} commits`);
  });

  it('a statement that fails inside a transaction leaves the rest of the group intact', async () => {
    await open();
    await db.insertInto('note').values({ id: 100, body: 'existing' }).execute();
    const outcomes = await Promise.allSettled([
      db.transaction().execute(async (tx) => {
        await tx.insertInto('note').values({ id: 1, body: 'one' }).execute();
      }),
      db.transaction().execute(async (tx) => {
        await tx.insertInto('note').values({ id: 2, body: 'two' }).execute();
        await tx.insertInto('note').values({ id: 100, body: 'duplicate' }).execute();
      }),
      db.insertInto('note').values({ id: 3, body: 'three, outside a transaction' }).execute(),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.deepEqual(committedNotes(), [1, 3, 100]);
  });

  it('when the COMMIT fails, every member of the group fails and none of its rows is kept', async () => {
    await open();
    // A deferred foreign key is checked at COMMIT: the orphan child makes the group's COMMIT fail.
    const outcomes = await Promise.allSettled([
      db.transaction().execute(async (tx) => {
        await tx.insertInto('note').values({ id: 1, body: 'innocent' }).execute();
      }),
      db.transaction().execute(async (tx) => {
        await tx.insertInto('child').values({ id: 1, parent_id: 42 }).execute();
      }),
      db.transaction().execute(async (tx) => {
        await tx.insertInto('note').values({ id: 2, body: 'innocent too' }).execute();
      }),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /FOREIGN KEY/);
    assert.deepEqual(committedNotes(), []);
    // The connection is usable afterwards, in a fresh group.
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('note').values({ id: 3, body: 'after' }).execute();
    });
    assert.deepEqual(committedNotes(), [3]);
  });

  it('a transaction arriving over the network while a group is open joins it (the commit waits for pending I/O)', async () => {
    await open();
    // As in the server: the second transaction starts from a socket's data, which the event loop reads only
    // after the first transaction has released the connection with nobody waiting for it.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const second = new Promise<void>((resolve, reject) =>
      server.once('connection', (socket) =>
        socket.once('data', () => {
          db.transaction()
            .execute(async (tx) => {
              await tx.insertInto('note').values({ id: 2, body: 'second' }).execute();
            })
            .then(resolve, reject)
            .finally(() => socket.destroy());
        }),
      ),
    );
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    try {
      await Promise.all([
        db.transaction().execute(async (tx) => {
          await tx.insertInto('note').values({ id: 1, body: 'first' }).execute();
          client.write('go');
        }),
        second,
      ]);
      assert.deepEqual(committedNotes(), [1, 2]);
      assert.equal(commits, 1, 'one commit for both');
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('a group takes at most maxMembers transactions', async () => {
    await open({ maxMembers: 2 });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        db.transaction().execute(async (tx) => {
          await tx
            .insertInto('note')
            .values({ id: i, body: `note ${i}` })
            .execute();
        }),
      ),
    );
    assert.equal(committedNotes().length, 10);
    assert.ok(commits >= 5, `10 transactions in groups of at most 2 took ${commits} commits`);
  });

  it('a transaction alone is committed without waiting for company', async () => {
    await open();
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('note').values({ id: 1, body: 'alone' }).execute();
    });
    assert.deepEqual(committedNotes(), [1]);
    assert.equal(commits, 1);
  });

  it('a read outside a transaction neither opens a group nor waits when none is open', async () => {
    await open();
    const rows = await db.selectFrom('note').selectAll().execute();
    assert.deepEqual(rows, []);
    assert.equal(commits, 0);
  });
});
