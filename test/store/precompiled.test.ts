import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/index.ts';
import { precompiled } from '../../src/store/precompiled.ts';
import { type TestDatabase, testDialects } from '../helpers/databases.ts';

// Precompiled queries (src/store/precompiled.ts) run Kysely's own SQL with new values each time; these check
// that values land in the right placeholders on each dialect, that constants of the query stay, and that a
// parameter the template cannot carry is refused at once rather than run wrongly.

for (const dialect of testDialects()) {
  describe(`precompiled queries (${dialect.name})`, () => {
    let database: TestDatabase;
    let store: Store;
    before(async () => {
      database = await dialect.create();
      store = await openStore(database.url);
      for (const [id, name, sandbox] of [
        ['w1', 'one', 1],
        ['w2', 'two', 0],
        ['w3', 'three', 1],
      ] as const) {
        await store.db
          .insertInto('workspaces')
          .values({
            workspace_id: id,
            name,
            is_sandbox: sandbox,
            company_name: name,
            clock_offset_ms: 0,
            created_at: 1,
          })
          .execute();
      }
    });
    after(async () => {
      await store.close();
      await database.drop();
    });

    const byNameAndSandbox = precompiled((db, p: { name: string; sandbox: number }) =>
      db
        .selectFrom('workspaces')
        .select(['workspace_id'])
        .where('name', '=', p.name)
        .where('is_sandbox', '=', p.sandbox)
        .orderBy('workspace_id')
        .limit(5),
    );

    it('binds each call’s values to their own placeholders (same statement, new values)', async () => {
      const one = await byNameAndSandbox(store.db, { name: 'one', sandbox: 1 });
      assert.deepEqual(one.rows, [{ workspace_id: 'w1' }]);
      const three = await byNameAndSandbox(store.db, { sandbox: 1, name: 'three' });
      assert.deepEqual(three.rows, [{ workspace_id: 'w3' }]);
      // 'two' is not a sandbox: the second value really is compared.
      assert.deepEqual((await byNameAndSandbox(store.db, { name: 'two', sandbox: 1 })).rows, []);
    });

    it('runs inside a transaction and sees its uncommitted writes', async () => {
      const rename = precompiled((db, p: { id: string; name: string }) =>
        db.updateTable('workspaces').set({ name: p.name }).where('workspace_id', '=', p.id),
      );
      await assert.rejects(
        store.db.transaction().execute(async (tx) => {
          await rename(tx, { id: 'w2', name: 'renamed' });
          assert.deepEqual((await byNameAndSandbox(tx, { name: 'renamed', sandbox: 0 })).rows, [
            { workspace_id: 'w2' },
          ]);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual((await byNameAndSandbox(store.db, { name: 'renamed', sandbox: 0 })).rows, []);
    });

    it('refuses a parameter that is not a whole bound value, and an unknown one', async () => {
      const transformed = precompiled((db, p: { name: string }) =>
        db.selectFrom('workspaces').select('workspace_id').where('name', '=', `x${p.name}`),
      );
      await assert.rejects(() => transformed(store.db, { name: 'one' }), /transformed/);
      const unused = precompiled((db, _p: { name: string }) =>
        db.selectFrom('workspaces').select('workspace_id').where('name', 'is', null),
      );
      await assert.rejects(() => unused(store.db, { name: 'one' }), /not a bound value/);
      const unknown = precompiled((db, p: { name: string }) =>
        db
          .selectFrom('workspaces')
          .select('workspace_id')
          .where('name', '=', (p as unknown as { other: string }).other),
      );
      await assert.rejects(() => unknown(store.db, { name: 'one' }), /unknown parameter other/);
    });
  });
}
