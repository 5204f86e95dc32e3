import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../../src/api/server.ts';
import { type BootstrapOutcome, bootstrap } from '../../src/app/bootstrap.ts';
import { createServices } from '../../src/app/serve.ts';
import type { Services } from '../../src/app/services.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { requirePostgres, type TestDatabase, testDialects } from '../helpers/databases.ts';

// First start on an empty database seeds the sandbox (contract §2); any later start changes nothing.

const KEY = 'seam_bootstrap_test_key_0123456789';
const OTHER_KEY = 'seam_some_other_key_0123456789abc';
const NOW = Date.UTC(2030, 5, 1, 12);

const silent = pino({ level: 'silent' });

/** One server process's services on `store` (each process has its own; they share the master key). */
const masterKey = randomBytes(32);
function servicesFor(store: Store): Services {
  return createServices(store, masterKey, silent).services;
}

/** Every application table (the migrator's bookkeeping aside), found by introspection. */
async function tables(store: Store): Promise<string[]> {
  const all = await store.db.introspection.getTables();
  return all
    .map((t) => t.name)
    .filter((name) => !name.startsWith('kysely_'))
    .sort();
}

/** Every row of every table, in a stable order: the whole observable state of the database. */
async function snapshot(store: Store): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of await tables(store)) {
    // biome-ignore lint/suspicious/noExplicitAny: tables found at run time
    const rows = await (store.db as any).selectFrom(table).selectAll().execute();
    out[table] = rows.map((r: unknown) => JSON.stringify(r)).sort();
  }
  return out;
}

async function rowCounts(store: Store): Promise<Record<string, number>> {
  const snap = await snapshot(store);
  return Object.fromEntries(Object.entries(snap).map(([t, rows]) => [t, rows.length]));
}

function seeded(outcome: BootstrapOutcome) {
  assert.equal(outcome.created, true, 'expected a first start to seed');
  if (!outcome.created) throw new Error('unreachable');
  return outcome.seeded;
}

/** `/devices/list` through the real app (no socket), as the holder of `key`. */
async function listDevices(store: Store, key: string) {
  const app = await buildApp({ services: servicesFor(store), logger: silent });
  try {
    const response = await app.inject({
      method: 'POST',
      url: '/devices/list',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: '{}',
    });
    return { status: response.statusCode, json: response.json() };
  } finally {
    await app.close();
  }
}

for (const dialect of testDialects()) {
  describe(`first-start bootstrap on ${dialect.name}`, () => {
    let database: TestDatabase;
    let store: Store;
    let services: Services;

    beforeEach(async () => {
      database = await dialect.create();
      store = await openStore(database.url);
      services = servicesFor(store);
    });
    afterEach(async () => {
      await store.close();
      await database.drop();
    });

    it('creates one sandbox workspace with Front Door (no bridge) and Back Door (bridge), opened by the given key', async () => {
      const created = seeded(await bootstrap(services, { now: NOW, bootstrapApiKey: KEY }));
      assert.equal(created.api_key, KEY);
      assert.equal(created.workspace.is_sandbox, true);
      assert.equal(created.connected_account?.account_type, 'igloohome');
      assert.deepEqual(
        created.devices.map((d) => [d.name, d.has_bridge]),
        [
          ['Front Door', false],
          ['Back Door', true],
        ],
      );

      const counts = await rowCounts(store);
      assert.deepEqual(
        [counts.meta, counts.workspaces, counts.api_keys, counts.connected_accounts, counts.devices],
        [1, 1, 1, 1, 2],
      );
      assert.equal(counts.action_attempts, 0);
      assert.equal(counts.jobs, 0);
      const [workspace] = await store.db.selectFrom('workspaces').selectAll().execute();
      assert.equal(workspace?.is_sandbox, 1);
      assert.equal(workspace?.clock_offset_ms, 0);
      const [apiKey] = await store.db.selectFrom('api_keys').selectAll().execute();
      assert.notEqual(apiKey?.key_hash, KEY, 'the key is stored hashed');
      assert.ok(
        !JSON.stringify(await snapshot(store)).includes(KEY),
        'the key appears nowhere in the database',
      );

      const { status, json } = await listDevices(store, KEY);
      assert.equal(status, 200);
      const devices = json.devices as Record<string, unknown>[];
      assert.deepEqual(
        devices.map((d) => [
          d.display_name,
          d.device_type,
          d.can_program_offline_access_codes,
          d.can_program_online_access_codes,
        ]),
        [
          ['Front Door', 'igloohome_lock', true, false],
          ['Back Door', 'igloohome_lock', true, true],
        ],
      );
      assert.ok(devices.every((d) => d.workspace_id === created.workspace.workspace_id));
      assert.equal((await listDevices(store, OTHER_KEY)).status, 401);
    });

    it('makes a fresh well-formed key when none is given', async () => {
      const created = seeded(await bootstrap(services, { now: NOW }));
      assert.match(created.api_key, /^seam_lk1_[A-Za-z0-9]{32}$/);
      assert.equal((await listDevices(store, created.api_key)).status, 200);
    });

    it('changes nothing on a second start, and tells whether the bootstrap key opens the database', async () => {
      seeded(await bootstrap(services, { now: NOW, bootstrapApiKey: KEY }));
      const before = await snapshot(store);

      assert.deepEqual(await bootstrap(services, { now: NOW + 60_000, bootstrapApiKey: KEY }), {
        created: false,
        bootstrapKeyValid: true,
      });
      assert.deepEqual(await bootstrap(services, { now: NOW + 60_000, bootstrapApiKey: OTHER_KEY }), {
        created: false,
        bootstrapKeyValid: false,
      });
      assert.deepEqual(await bootstrap(services, { now: NOW + 60_000 }), {
        created: false,
        bootstrapKeyValid: null,
      });
      // An ill-formed key on an existing database is simply not valid: start-up goes on.
      assert.deepEqual(await bootstrap(services, { now: NOW + 60_000, bootstrapApiKey: 'not-a-key' }), {
        created: false,
        bootstrapKeyValid: false,
      });

      assert.deepEqual(await snapshot(store), before, 'every table is exactly as it was');
      assert.equal((await listDevices(store, KEY)).status, 200);
    });

    it('changes nothing on a second start through a new connection (a restarted process)', async () => {
      seeded(await bootstrap(services, { now: NOW, bootstrapApiKey: KEY }));
      const before = await snapshot(store);
      const restarted = await openStore(database.url);
      try {
        assert.deepEqual(await bootstrap(servicesFor(restarted), { now: NOW + 1, bootstrapApiKey: KEY }), {
          created: false,
          bootstrapKeyValid: true,
        });
        assert.deepEqual(await snapshot(restarted), before);
      } finally {
        await restarted.close();
      }
    });

    for (const badKey of [
      'not-a-key',
      'seam_short',
      'seam_has-a-dash_0123456789',
      'seam_cst_0123456789abcdefgh',
    ]) {
      it(`refuses the ill-formed bootstrap key ${JSON.stringify(badKey)} and leaves the database empty`, async () => {
        await assert.rejects(
          bootstrap(services, { now: NOW, bootstrapApiKey: badKey }),
          /LATCHKEY_BOOTSTRAP_API_KEY/,
        );
        const counts = await rowCounts(store);
        assert.ok(Object.keys(counts).length >= 7, `tables: ${Object.keys(counts).join(', ')}`);
        assert.deepEqual(
          Object.entries(counts).filter(([, n]) => n !== 0),
          [],
          'every table is empty',
        );
        // A corrected key then seeds normally.
        seeded(await bootstrap(services, { now: NOW, bootstrapApiKey: KEY }));
      });
    }
  });
}

describe('bootstrap: two processes starting together on one Postgres', () => {
  const postgres = requirePostgres();
  const skip = postgres ? false : 'set LATCHKEY_TEST_DATABASE_URL to run the Postgres-only race tests';
  const databases: TestDatabase[] = [];
  after(async () => {
    for (const database of databases) await database.drop();
  });

  async function twoStores() {
    if (!postgres) throw new Error('unreachable');
    const database = await postgres.create();
    databases.push(database);
    // Migrate once first: the race under test is seeding, not two migrators on an empty schema.
    const first = await openStore(database.url);
    const second = await openStore(database.url);
    return { database, stores: [first, second] as const };
  }

  async function assertOneWinner(stores: readonly [Store, Store], outcomes: BootstrapOutcome[]) {
    const winners = outcomes.filter((o) => o.created);
    assert.equal(
      winners.length,
      1,
      `exactly one reports created: ${JSON.stringify(outcomes.map((o) => o.created))}`,
    );
    const loser = outcomes.find((o) => !o.created);
    assert.deepEqual(loser, { created: false, bootstrapKeyValid: true });
    const counts = await rowCounts(stores[0]);
    assert.equal(counts.workspaces, 1);
    assert.equal(counts.devices, 2);
    assert.equal(counts.api_keys, 1);
    assert.equal(counts.meta, 1);
  }

  it('seeds exactly once when both start at the same moment', { skip }, async () => {
    for (let round = 0; round < 3; round++) {
      const { stores } = await twoStores();
      try {
        const outcomes = await Promise.all(
          stores.map((s) => bootstrap(servicesFor(s), { now: NOW, bootstrapApiKey: KEY })),
        );
        await assertOneWinner(stores, outcomes);
      } finally {
        for (const s of stores) await s.close();
      }
    }
  });

  it('seeds exactly once when both have already seen an empty database', { skip }, async () => {
    // Hold the `meta` table so that both processes get past "no workspace yet" and queue on the meta
    // row: the loser then fails on its primary key and must report "not created".
    const { database, stores } = await twoStores();
    const gate = new pg.Client({ connectionString: database.url });
    await gate.connect();
    try {
      await gate.query('BEGIN');
      await gate.query('LOCK TABLE meta IN EXCLUSIVE MODE');
      const racing = Promise.all(
        stores.map((s) => bootstrap(servicesFor(s), { now: NOW, bootstrapApiKey: KEY })),
      );
      const waiting = async () => {
        const { rows } = await gate.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return rows[0].n as number;
      };
      for (let i = 0; i < 500 && (await waiting()) < 2; i++) await sleep(10);
      assert.equal(await waiting(), 2, 'both processes are past the workspace count, waiting on meta');
      await gate.query('ROLLBACK');
      await assertOneWinner(stores, await racing);
    } finally {
      await gate.end();
      for (const s of stores) await s.close();
    }
  });
});
