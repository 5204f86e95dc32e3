import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { SCOPES } from '../../src/igloohome/scopes.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// `latchkey igloohome client create|list|revoke`, spawned as a user runs it, on the database a running server
// reads: the credentials it prints get tokens from that server, and a revoke takes effect at once.

const repoRoot = new URL('../..', import.meta.url).pathname;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: repoRoot, env, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

for (const dialect of testDialects()) {
  describe(`latchkey igloohome client (${dialect.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server?.close());

    const cli = (...args: string[]) => runCli([...args, '--database-url', server.database.url]);
    async function cliJson(...args: string[]) {
      const r = await cli(...args, '--json');
      assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed: ${r.stderr}`);
      return JSON.parse(r.stdout);
    }
    const token = (id: string, secret: string, scope?: string) =>
      call(server, '/igloohome/oauth2/token', {
        key: null,
        rawBody: `grant_type=client_credentials${scope ? `&scope=${encodeURIComponent(scope)}` : ''}`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        },
      });

    it('create prints the secret once; list shows no secret; revoke stops the client', async () => {
      const workspaceId = server.sandbox.workspace.workspace_id;
      const created = await cliJson(
        'igloohome',
        'client',
        'create',
        '--workspace-id',
        workspaceId,
        '--name',
        'pms',
        '--scopes',
        `${SCOPES.getDevices},${SCOPES.algopinHourly}`,
      );
      assert.match(created.client_id, /^[a-z2-7]{26}$/);
      assert.equal(typeof created.client_secret, 'string');
      assert.deepEqual(created.scopes, [SCOPES.getDevices, SCOPES.algopinHourly]);
      const ok = await token(created.client_id, created.client_secret);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.scope, `${SCOPES.getDevices} ${SCOPES.algopinHourly}`);
      assert.equal((await token(created.client_id, created.client_secret, SCOPES.algopinDaily)).status, 400);

      const listed = await cliJson('igloohome', 'client', 'list', '--workspace-id', workspaceId);
      assert.deepEqual(
        listed.map((c: { client_id: string; name: string }) => [c.client_id, c.name]),
        [[created.client_id, 'pms']],
      );
      assert.ok(!JSON.stringify(listed).includes(created.client_secret));
      assert.equal(listed[0].revoked_at, null);

      const revoked = await cliJson(
        'igloohome',
        'client',
        'revoke',
        '--workspace-id',
        workspaceId,
        '--client-id',
        created.client_id,
      );
      assert.deepEqual(revoked, { client_id: created.client_id, revoked: true });
      const refused = await token(created.client_id, created.client_secret);
      assert.equal(refused.status, 401);
      assert.equal(refused.json.error, 'invalid_client');
    });

    it('refuses unknown scopes, workspaces and clients', async () => {
      const workspaceId = server.sandbox.workspace.workspace_id;
      // Independent commands: run them side by side (each start of the CLI costs a second or two).
      const [badScope, noWorkspace, noClient] = await Promise.all([
        cli('igloohome', 'client', 'create', '--workspace-id', workspaceId, '--scopes', 'x/y'),
        cli('igloohome', 'client', 'list', '--workspace-id', 'nope'),
        cli('igloohome', 'client', 'revoke', '--workspace-id', workspaceId, '--client-id', 'zz'),
      ]);
      assert.equal(badScope.code, 1);
      assert.match(badScope.stderr, /unknown scope x\/y/);
      assert.equal(noWorkspace.code, 1);
      assert.match(noWorkspace.stderr, /no workspace nope/);
      assert.equal(noClient.code, 1);
      assert.match(noClient.stderr, /no live igloohome client zz/);
    });
  });
}
