import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import { type RunningServer, startServer } from '../../src/app/serve.ts';
import { MASTER_KEY_CHECK, masterKeyFingerprint, verifyMasterKey } from '../../src/codeserver/master-key.ts';
import { loadConfig } from '../../src/config.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { requirePostgres, type TestDatabase, testDialects } from '../helpers/databases.ts';
import { call } from '../helpers/server.ts';
import { children, exited, killAll, serve, stop } from '../helpers/server-process.ts';

// Several processes on one database must seal and open secrets under one master key. The database records a
// fingerprint of the key (HMAC-SHA256(key, "latchkey master key check v1")) on the first start; a process
// with any other key refuses to start, before it seals or serves anything.

const silent = pino({ level: 'silent' });
const API_KEY = 'seam_master_key_check_0123456789';
const hexKey = () => randomBytes(32).toString('hex');

/** The refusal must name the fix. */
const REFUSAL = /master key.*LATCHKEY_MASTER_KEY/s;

function configFor(database: TestDatabase, dataDir: string, masterKey?: string) {
  return loadConfig({
    DATABASE_URL: database.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LATCHKEY_DATA_DIR: dataDir,
    LATCHKEY_BOOTSTRAP_API_KEY: API_KEY,
    LATCHKEY_RATE_LIMIT: '0',
    ...(masterKey ? { LATCHKEY_MASTER_KEY: masterKey } : {}),
  });
}

async function meta(url: string): Promise<Record<string, string>> {
  const store = await openStore(url);
  try {
    const rows = await store.db.selectFrom('meta').selectAll().execute();
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  } finally {
    await store.close();
  }
}

async function counts(url: string) {
  const store = await openStore(url);
  try {
    const out: Record<string, number> = {};
    for (const table of ['workspaces', 'devices', 'lock_keys', 'meta'] as const) {
      const row = await store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      out[table] = Number(row.n);
    }
    return out;
  } finally {
    await store.close();
  }
}

async function dropFingerprint(url: string) {
  const store = await openStore(url);
  try {
    await store.db.deleteFrom('meta').where('key', '=', MASTER_KEY_CHECK).execute();
  } finally {
    await store.close();
  }
}

/** An offline code on the seeded Front Door: opens its lock key (sealed by whichever process seeded). */
async function createOfflineCode(server: RunningServer) {
  const api = { url: server.url, apiKey: API_KEY };
  const devices = await call(api, '/devices/list', { body: {} });
  assert.equal(devices.status, 200, devices.text);
  const front = devices.json.devices.find((d: { display_name: string }) => d.display_name === 'Front Door');
  const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;
  return call(api, '/access_codes/create', {
    body: {
      device_id: front.device_id,
      is_offline_access_code: true,
      starts_at: new Date(start).toISOString(),
      ends_at: new Date(start + 2 * 3_600_000).toISOString(),
    },
  });
}

/**
 * Drops a test database, retrying briefly: SQLite's checkpointer thread closes its own connection a moment
 * after the store's close() resolves, and may still touch the -wal/-shm files while the directory is removed.
 */
async function dropSettled(database: TestDatabase): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await database.drop();
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(100);
    }
  }
}

describe('master key fingerprint', () => {
  it('is HMAC-SHA256 of a fixed label: stable per key, different between keys, never the key', () => {
    const key = randomBytes(32);
    const fingerprint = masterKeyFingerprint(key);
    assert.equal(fingerprint, masterKeyFingerprint(Buffer.from(key)));
    assert.notEqual(fingerprint, masterKeyFingerprint(randomBytes(32)));
    assert.match(fingerprint, /^v1\.[0-9a-f]{64}$/);
    assert.ok(!fingerprint.includes(key.toString('hex')));
    assert.ok(!fingerprint.includes(key.toString('base64url')));
  });
});

for (const dialect of testDialects()) {
  describe(`master key check at start (${dialect.name}, startServer)`, () => {
    let database: TestDatabase;
    let dir: string;
    const running: RunningServer[] = [];
    const start = async (masterKey?: string, dataDir = join(dir, 'a')) => {
      const server = await startServer(configFor(database, dataDir, masterKey), silent);
      running.push(server);
      return server;
    };
    const close = async (server: RunningServer) => {
      running.splice(running.indexOf(server), 1);
      await server.close();
    };

    beforeEach(async () => {
      database = await dialect.create();
      dir = mkdtempSync(join(tmpdir(), 'latchkey-master-key-'));
    });
    afterEach(async () => {
      for (const server of running.splice(0)) await server.close();
      await dropSettled(database);
      rmSync(dir, { recursive: true, force: true });
    });

    it('records the fingerprint on the first start, and starts again with the same key', async () => {
      const key = hexKey();
      const first = await start(key);
      const recorded = (await meta(database.url))[MASTER_KEY_CHECK];
      assert.equal(recorded, masterKeyFingerprint(Buffer.from(key, 'hex')));
      assert.ok(!JSON.stringify(await meta(database.url)).includes(key), 'the key itself is not stored');
      await close(first);

      const second = await start(key, join(dir, 'elsewhere'));
      assert.equal(second.bootstrap.created, false);
      assert.equal((await createOfflineCode(second)).status, 200);
      assert.equal((await meta(database.url))[MASTER_KEY_CHECK], recorded, 'unchanged');
    });

    it('refuses a different LATCHKEY_MASTER_KEY, changing nothing, while the first process serves on', async () => {
      const key = hexKey();
      const first = await start(key);
      const before = await counts(database.url);
      const beforeMeta = await meta(database.url);
      const other = hexKey();
      await assert.rejects(start(other, join(dir, 'b')), (error: Error) => {
        assert.match(error.message, REFUSAL);
        assert.ok(!error.message.includes(key) && !error.message.includes(other), 'no key in the message');
        assert.ok(!error.message.includes(beforeMeta[MASTER_KEY_CHECK] ?? '?'), 'no fingerprint either');
        return true;
      });
      assert.deepEqual(await counts(database.url), before);
      assert.deepEqual(await meta(database.url), beforeMeta);
      assert.equal((await createOfflineCode(first)).status, 200);
    });

    it('refuses a master key generated into another data directory (the multi-host default)', async () => {
      const first = await start(undefined, join(dir, 'host-1'));
      const generated = readFileSync(join(dir, 'host-1', 'master.key'), 'utf8').trim();
      await assert.rejects(start(undefined, join(dir, 'host-2')), REFUSAL);
      // The fix the message names: the other processes' key.
      const second = await start(generated, join(dir, 'host-2'));
      assert.equal((await createOfflineCode(second)).status, 200);
      assert.equal((await createOfflineCode(first)).status, 200);
    });

    it('upgrade: a database without a fingerprint records it on the first start with the right key', async () => {
      const key = hexKey();
      await close(await start(key));
      await dropFingerprint(database.url);
      const restarted = await start(key, join(dir, 'b'));
      assert.equal(
        (await meta(database.url))[MASTER_KEY_CHECK],
        masterKeyFingerprint(Buffer.from(key, 'hex')),
      );
      assert.equal((await createOfflineCode(restarted)).status, 200);
    });

    it('upgrade: a wrong key that cannot open the lock keys already sealed records nothing and refuses', async () => {
      const key = hexKey();
      await close(await start(key));
      await dropFingerprint(database.url);
      await assert.rejects(start(hexKey(), join(dir, 'b')), /does not open the secrets already sealed/);
      assert.equal((await meta(database.url))[MASTER_KEY_CHECK], undefined, 'nothing recorded');
      await start(key, join(dir, 'c'));
      assert.equal(
        (await meta(database.url))[MASTER_KEY_CHECK],
        masterKeyFingerprint(Buffer.from(key, 'hex')),
      );
    });

    it('refuses a fingerprint of an unknown format rather than overwriting it', async () => {
      const store = await openStore(database.url);
      await store.db.insertInto('meta').values({ key: MASTER_KEY_CHECK, value: 'v9.whatever' }).execute();
      await store.close();
      await assert.rejects(start(hexKey()), REFUSAL);
      assert.equal((await meta(database.url))[MASTER_KEY_CHECK], 'v9.whatever');
    });
  });
}

describe('master key check: processes starting together on one Postgres', () => {
  const postgres = requirePostgres();
  const skip = postgres ? false : 'set LATCHKEY_TEST_DATABASE_URL to run the Postgres-only race tests';
  const databases: TestDatabase[] = [];
  const dirs: string[] = [];
  after(async () => {
    killAll();
    for (const child of children) await exited(child);
    for (const database of databases) await dropSettled(database);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function freshStores(n: number) {
    if (!postgres) throw new Error('unreachable');
    const database = await postgres.create();
    databases.push(database);
    const stores: Store[] = [];
    for (let i = 0; i < n; i++) stores.push(await openStore(database.url));
    return { database, stores };
  }

  /** Holds `meta` so every checker has read "no fingerprint yet" and waits to insert; then lets them go. */
  async function releasedTogether<T>(database: TestDatabase, n: number, race: () => Promise<T>): Promise<T> {
    const gate = new pg.Client({ connectionString: database.url });
    await gate.connect();
    try {
      await gate.query('BEGIN');
      await gate.query('LOCK TABLE meta IN EXCLUSIVE MODE');
      const racing = race();
      racing.catch(() => {});
      const waiting = async () => {
        const { rows } = await gate.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return rows[0].n as number;
      };
      for (let i = 0; i < 500 && (await waiting()) < n; i++) await sleep(10);
      assert.equal(await waiting(), n, 'every checker read no fingerprint and waits on meta');
      await gate.query('ROLLBACK');
      return await racing;
    } finally {
      await gate.end();
    }
  }

  it('same key: all first starts succeed though they all saw no fingerprint', { skip }, async () => {
    const key = randomBytes(32);
    const { database, stores } = await freshStores(3);
    try {
      const outcomes = await releasedTogether(database, 3, () =>
        Promise.all(stores.map((s) => verifyMasterKey(s.db, key))),
      );
      assert.deepEqual(outcomes.sort(), ['matched', 'matched', 'recorded']);
      assert.equal((await meta(database.url))[MASTER_KEY_CHECK], masterKeyFingerprint(key));
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('different keys: exactly one wins, the other refuses', { skip }, async () => {
    const keys = [randomBytes(32), randomBytes(32)];
    const { database, stores } = await freshStores(2);
    try {
      const outcomes = await releasedTogether(database, 2, () =>
        Promise.allSettled(stores.map((s, i) => verifyMasterKey(s.db, keys[i] as Buffer))),
      );
      const won = outcomes.findIndex((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(lost.length, 1, JSON.stringify(outcomes));
      assert.match(String((lost[0] as PromiseRejectedResult).reason), REFUSAL);
      assert.equal((await meta(database.url))[MASTER_KEY_CHECK], masterKeyFingerprint(keys[won] as Buffer));
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('real `latchkey serve` processes: two started at once with one key both serve; a third with its own generated key exits 1 saying what to set', {
    skip,
  }, async () => {
    if (!postgres) throw new Error('unreachable');
    const database = await postgres.create();
    databases.push(database);
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-master-key-'));
    dirs.push(dir);
    const key = hexKey();
    const env = {
      DATABASE_URL: database.url,
      LATCHKEY_MASTER_KEY: key,
      LATCHKEY_BOOTSTRAP_API_KEY: API_KEY,
      LATCHKEY_DATA_DIR: join(dir, 'shared'),
    };
    const served = await Promise.all([serve(env), serve(env)]);
    try {
      for (const s of served) {
        assert.equal(
          (await call({ url: s.url, apiKey: '' }, '/health', { method: 'GET', key: null })).status,
          200,
        );
        assert.equal(
          (await call({ url: s.url, apiKey: API_KEY }, '/devices/list', { body: {} })).status,
          200,
        );
      }
      const { LATCHKEY_MASTER_KEY: _, ...withoutKey } = env;
      await assert.rejects(
        serve({ ...withoutKey, LATCHKEY_DATA_DIR: join(dir, 'other-host') }),
        (error: Error) => {
          assert.match(error.message, /serve exited early \(1\)/);
          assert.match(error.message, /latchkey: .*master key.*LATCHKEY_MASTER_KEY/s);
          assert.match(error.message, /other-host\/master\.key/, 'names where its own key came from');
          const generated = readFileSync(join(dir, 'other-host', 'master.key'), 'utf8').trim();
          assert.ok(!error.message.includes(generated) && !error.message.includes(key), 'no key printed');
          return true;
        },
      );
    } finally {
      for (const s of served) assert.equal(await stop(s.child), 0);
    }
  });
});

describe('master key check: a real `latchkey serve` on SQLite with another data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-master-key-'));
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 1 before serving, naming LATCHKEY_MASTER_KEY; the first process is unaffected', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, LATCHKEY_BOOTSTRAP_API_KEY: API_KEY };
    const first = await serve({ ...env, LATCHKEY_DATA_DIR: join(dir, 'one') });
    try {
      await assert.rejects(serve({ ...env, LATCHKEY_DATA_DIR: join(dir, 'two') }), (error: Error) => {
        assert.match(error.message, /serve exited early \(1\)/);
        assert.match(error.message, /latchkey: .*LATCHKEY_MASTER_KEY/s);
        assert.doesNotMatch(error.message, /serving the Seam-compatible API/);
        return true;
      });
      const api = { url: first.url, apiKey: API_KEY };
      assert.equal((await call(api, '/devices/list', { body: {} })).status, 200);
    } finally {
      assert.equal(await stop(first.child), 0);
    }
  });
});
