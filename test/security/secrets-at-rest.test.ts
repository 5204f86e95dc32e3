import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openLockKey } from '../../src/codeserver/builtin.ts';
import { createIgloohomeClient } from '../../src/igloohome/clients.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// Reads the raw database (the SQLite files byte by byte, or every row of every Postgres table as text) and
// checks that no secret is there in clear: API keys are hashed; lock keys, webhook secrets and remote
// code-server credentials are sealed under the master key; igloohome client secrets are hashed.

async function rawDatabaseText(server: TestServer): Promise<string> {
  if (server.database.dialect === 'sqlite') {
    // Checkpoint so the WAL's content is in the main file too; read every file SQLite keeps.
    await sql`PRAGMA wal_checkpoint(FULL)`.execute(server.store.db);
    const file = server.database.url.slice('sqlite:'.length);
    const dir = dirname(file);
    return readdirSync(dir)
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('\n');
  }
  const tables = await sql<{
    tablename: string;
  }>`select tablename from pg_tables where schemaname = 'public'`.execute(server.store.db);
  const parts: string[] = [];
  for (const { tablename } of tables.rows) {
    const rows = await sql<{
      t: string;
    }>`select row_to_json(x)::text as t from ${sql.table(tablename)} x`.execute(server.store.db);
    parts.push(...rows.rows.map((r) => r.t));
  }
  return parts.join('\n');
}

for (const dialect of testDialects()) {
  describe(`secrets at rest (${dialect.name})`, () => {
    let server: TestServer;
    const secrets: Record<string, string> = {};

    before(async () => {
      server = await startTestServer(dialect);
      secrets.api_key = server.apiKey;
      const hook = await call(server, '/webhooks/create', { body: { url: 'http://127.0.0.1:9/hook' } });
      const webhookSecret: string = hook.json.webhook.secret;
      secrets.webhook_secret = webhookSecret;
      secrets.webhook_secret_body = webhookSecret.slice('whsec_'.length);
      for (const [i, device] of server.sandbox.devices.entries()) {
        const key = await openLockKey(server.store.db, server.services.masterKey, device);
        assert.ok(key);
        secrets[`lock_key_${i}`] = key.toString('hex');
        secrets[`lock_key_${i}_base64`] = key.toString('base64');
      }
      const client = await createIgloohomeClient(server.store, server.sandbox.workspace.workspace_id);
      secrets.igloohome_client_secret = client.client_secret;
      // Another workspace's account uses a remote code server, so the sandbox keeps issuing its own PINs.
      const other = await server.createOtherWorkspace();
      await server.services.providers.configure(
        server.store.db,
        other.connected_account?.connected_account_id ?? '',
        {
          base_url: 'http://127.0.0.1:9/igloohome',
          client_id: 'remote-client',
          client_secret: 'remote-secret-ABC123xyz',
        },
      );
      secrets.remote_client_secret = 'remote-secret-ABC123xyz';
      secrets.master_key = server.services.masterKey.toString('hex');
    });
    after(() => server.close());

    it('keeps no API key, lock key, webhook secret or client secret in clear in the database', async () => {
      const raw = await rawDatabaseText(server);
      assert.ok(raw.length > 2_000, 'read the database');
      assert.ok(raw.includes('Front Door'), 'the dump is readable text where data is not secret');
      for (const [name, value] of Object.entries(secrets)) {
        assert.ok(!raw.includes(value), `${name} is stored in clear`);
      }
    });

    it('still uses them: the sealed lock key issues PINs that the lock accepts', async () => {
      const device = server.sandbox.devices[0];
      assert.ok(device);
      const created = await call(server, '/access_codes/create', {
        body: { device_id: device.device_id, is_offline_access_code: true },
      });
      const entry = await call(server, '/locks/simulate/keypad_code_entry', {
        body: { device_id: device.device_id, code: created.json.access_code.code },
      });
      assert.equal(entry.json.action_attempt.result.accepted, true);
    });
  });
}
