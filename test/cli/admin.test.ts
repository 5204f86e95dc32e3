import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/api/server.ts';
import { createServices } from '../../src/app/serve.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { call } from '../helpers/server.ts';

// The real `latchkey` CLI, spawned as a user would run it, administering a SQLite file that a running
// server reads at the same time: keys it prints open the API, keys it revokes stop working at once.

const repoRoot = new URL('../..', import.meta.url).pathname;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], extraEnv: Record<string, string>): Promise<CliResult> {
  const env = { ...process.env, ...extraEnv };
  delete env.DATABASE_URL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      // Generous: a 2-core machine under load can take seconds per start; a hang still ends the test.
      { cwd: repoRoot, env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const killed = error?.killed ? `\n(killed after 60 s: ${error.signal})` : '';
        resolve({ code, stdout, stderr: stderr + killed });
      },
    );
  });
}

describe('latchkey CLI: workspaces and API keys (SQLite file shared with a running server)', () => {
  let dir: string;
  let databaseUrl: string;
  let store: Store;
  let app: FastifyInstance;
  let server: { url: string; apiKey: string };
  // The CLI and the server share the master key, as processes of one deployment must.
  const masterKey = randomBytes(32);
  const cli = (...args: string[]) =>
    runCli([...args, '--database-url', databaseUrl], {
      LATCHKEY_MASTER_KEY: masterKey.toString('hex'),
      LATCHKEY_DATA_DIR: join(dir, 'data'),
    });
  /** Runs a command that must succeed and print JSON. */
  async function cliJson(...args: string[]) {
    const result = await cli(...args, '--json');
    assert.equal(result.code, 0, `latchkey ${args.join(' ')} failed: ${result.stderr}`);
    // biome-ignore lint/suspicious/noExplicitAny: CLI output is read ad hoc
    return JSON.parse(result.stdout) as any;
  }
  const as = (key: string) => ({ url: server.url, apiKey: key });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
    databaseUrl = `sqlite:${join(dir, 'admin.sqlite')}`;
    store = await openStore(databaseUrl);
    const logger = pino({ level: 'silent' });
    app = await buildApp({ services: createServices(store, masterKey, logger).services, logger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    server = { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, apiKey: '' };
  });
  after(async () => {
    await app?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let plain: { workspace_id: string; api_key: string };

  it('workspace create --json prints a key that authenticates against the server', async () => {
    plain = await cliJson('workspace', 'create', '--name', 'Acme Rentals');
    assert.match(plain.workspace_id, /^[0-9a-f-]{36}$/);
    assert.match(plain.api_key, /^seam_lk1_[A-Za-z0-9]{32}$/);
    assert.deepEqual(
      { ...plain, workspace_id: undefined, api_key: undefined },
      { workspace_id: undefined, api_key: undefined, name: 'Acme Rentals', is_sandbox: false, devices: [] },
    );

    const workspace = await call(as(plain.api_key), '/workspaces/get', { body: {} });
    assert.equal(workspace.status, 200);
    assert.equal(workspace.json.workspace.workspace_id, plain.workspace_id);
    assert.equal(workspace.json.workspace.name, 'Acme Rentals');
    assert.equal(workspace.json.workspace.is_sandbox, false);
    const devices = await call(as(plain.api_key), '/devices/list', { body: {} });
    assert.equal(devices.status, 200);
    assert.deepEqual(devices.json.devices, []);
  });

  it('workspace create --sandbox gives a workspace with its two virtual locks', async () => {
    const sandbox = await cliJson('workspace', 'create', '--name', 'Play', '--sandbox');
    assert.equal(sandbox.is_sandbox, true);
    assert.deepEqual(
      sandbox.devices.map((d: { name: string }) => d.name),
      ['Front Door', 'Back Door'],
    );
    const devices = await call(as(sandbox.api_key), '/devices/list', { body: {} });
    assert.equal(devices.status, 200);
    assert.deepEqual(
      devices.json.devices.map((d: { device_id: string }) => d.device_id),
      sandbox.devices.map((d: { device_id: string }) => d.device_id),
    );
  });

  it('key create, key list (prefixes only) and key revoke, which shuts the key out on the next request', async () => {
    const issued = await cliJson('key', 'create', '--workspace-id', plain.workspace_id, '--name', 'ci');
    assert.match(issued.key, /^seam_lk1_[A-Za-z0-9]{32}$/);
    const works = await call(as(issued.key), '/workspaces/get', { body: {} });
    assert.equal(works.json.workspace.workspace_id, plain.workspace_id);

    const list = await cli('key', 'list', '--workspace-id', plain.workspace_id, '--json');
    assert.equal(list.code, 0, list.stderr);
    for (const key of [plain.api_key, issued.key]) {
      assert.ok(!list.stdout.includes(key), 'key list never prints a full key');
      assert.ok(list.stdout.includes(`${key.slice(0, 13)}…`), 'but shows its prefix');
    }
    const keys = JSON.parse(list.stdout);
    assert.deepEqual(
      keys.map((k: { name: string; revoked_at: string | null }) => [k.name, k.revoked_at]),
      [
        ['default', null],
        ['ci', null],
      ],
    );
    assert.equal(keys[1].api_key_id, issued.api_key_id);

    const revoked = await cliJson(
      'key',
      'revoke',
      '--workspace-id',
      plain.workspace_id,
      '--api-key-id',
      issued.api_key_id,
    );
    assert.deepEqual(revoked, { api_key_id: issued.api_key_id, revoked: true });
    const refused = await call(as(issued.key), '/workspaces/get', { body: {} });
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error.type, 'unauthorized');
    const other = await call(as(plain.api_key), '/workspaces/get', { body: {} });
    assert.equal(other.status, 200, 'the workspace’s other key still works');

    const rows = await store.db
      .selectFrom('api_keys')
      .select(['api_key_id', 'revoked_at'])
      .where('workspace_id', '=', plain.workspace_id)
      .execute();
    assert.equal(rows.length, 2);
    assert.equal(typeof rows.find((r) => r.api_key_id === issued.api_key_id)?.revoked_at, 'number');
    assert.equal(rows.find((r) => r.api_key_id !== issued.api_key_id)?.revoked_at, null);
  });

  it('workspace list shows every workspace, oldest first', async () => {
    const listed = await cliJson('workspace', 'list');
    assert.deepEqual(
      listed.map((w: { name: string; is_sandbox: boolean }) => [w.name, w.is_sandbox]),
      [
        ['Acme Rentals', false],
        ['Play', true],
      ],
    );
    assert.equal(listed[0].workspace_id, plain.workspace_id);
  });

  it('exits non-zero with a clear message on stderr for an unknown workspace or key', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const [create, revoke] = await Promise.all([
      cli('key', 'create', '--workspace-id', unknown, '--json'),
      cli('key', 'revoke', '--workspace-id', plain.workspace_id, '--api-key-id', 'nope'),
    ]);
    assert.notEqual(create.code, 0);
    assert.equal(create.stdout, '');
    assert.equal(create.stderr.trim(), `latchkey: no workspace ${unknown}`);
    assert.notEqual(revoke.code, 0);
    assert.equal(revoke.stdout, '');
    assert.equal(revoke.stderr.trim(), `latchkey: no live API key nope in workspace ${plain.workspace_id}`);
    const count = await store.db
      .selectFrom('workspaces')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 2, 'no failed command created anything');
  });

  it('refuses to seal anything under a master key other than the one the database was set up with', async () => {
    const other = await runCli(
      ['workspace', 'create', '--name', 'Wrong key', '--sandbox', '--json', '--database-url', databaseUrl],
      {
        LATCHKEY_MASTER_KEY: randomBytes(32).toString('hex'),
        LATCHKEY_DATA_DIR: join(dir, 'data'),
      },
    );
    assert.notEqual(other.code, 0);
    assert.equal(other.stdout, '');
    assert.match(other.stderr, /LATCHKEY_MASTER_KEY/);
    const names = await store.db.selectFrom('workspaces').select('name').execute();
    assert.ok(!names.some((w) => w.name === 'Wrong key'), 'nothing was created');
  });
});
