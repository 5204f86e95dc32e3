import type { Command } from 'commander';
import { issueApiKey } from '../app/api-keys.ts';
import { connectRemoteAccount } from '../app/remote-accounts.ts';
import { createWorkspace } from '../app/workspaces.ts';
import { BuiltinCodeProvider } from '../codeserver/builtin.ts';
import { loadMasterKey, verifyMasterKey } from '../codeserver/master-key.ts';
import { ProviderRegistry } from '../codeserver/registry.ts';
import { loadConfig } from '../config.ts';
import type { Store } from '../store/index.ts';
import { listApiKeys, revokeApiKey } from '../store/repos/api-keys.ts';
import { listWorkspaces } from '../store/repos/workspaces.ts';
import { dbOption, dbUrl, requireWorkspace, withStore } from './database.ts';
import { printResult } from './output.ts';

// Administration straight on the database (no API key exists yet when you need these).

/**
 * Creating locks pairs them with the code server, which needs the master key (as `serve` loads it) — the one
 * the database's servers use, checked as `serve` checks it, or the CLI would seal secrets they cannot open.
 */
async function codeServer(store: Store) {
  const config = loadConfig();
  const masterKey = loadMasterKey({ fromEnv: config.masterKey, dataDir: config.dataDir });
  await verifyMasterKey(store.db, masterKey, config);
  return {
    store,
    masterKey,
    providers: new ProviderRegistry(new BuiltinCodeProvider(masterKey), masterKey, Date.now),
  };
}

export function registerAdminCommands(program: Command): void {
  const workspace = program.command('workspace').description('manage workspaces');
  workspace
    .command('create')
    .description('create a workspace with an API key (a sandbox one also gets two virtual locks)')
    .requiredOption('--name <name>', 'workspace name')
    .option('--sandbox', 'sandbox workspace (virtual locks, time travel)', false)
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const created = await withStore(dbUrl(opts), async (store) =>
        createWorkspace(await codeServer(store), {
          name: opts.name,
          is_sandbox: opts.sandbox,
          now: Date.now(),
        }),
      );
      printResult(opts, {
        workspace_id: created.workspace.workspace_id,
        name: created.workspace.name,
        is_sandbox: created.workspace.is_sandbox,
        api_key: created.api_key,
        devices: created.devices.map((d) => ({ device_id: d.device_id, name: d.name })),
      });
    });
  workspace
    .command('list')
    .description('list workspaces')
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const rows = await withStore(dbUrl(opts), (store) => listWorkspaces(store.db));
      printResult(
        opts,
        rows.map((w) => ({ workspace_id: w.workspace_id, name: w.name, is_sandbox: w.is_sandbox })),
      );
    });

  const account = program.command('account').description('connected accounts and their code servers');
  account
    .command('connect-remote')
    .description('connect a workspace to a remote igloohome-style code server (its locks are imported)')
    .requiredOption('--workspace-id <id>', 'workspace')
    .requiredOption('--base-url <url>', 'API base, e.g. https://codes.example.com/igloohome')
    .requiredOption('--client-id <id>', 'OAuth2 client id')
    .option('--client-secret <secret>', 'OAuth2 client secret (env LATCHKEY_REMOTE_CLIENT_SECRET)')
    .option('--token-url <url>', 'token endpoint (default: <base-url>/oauth2/token)')
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const secret = opts.clientSecret ?? process.env.LATCHKEY_REMOTE_CLIENT_SECRET;
      if (!secret) throw new Error('give --client-secret or LATCHKEY_REMOTE_CLIENT_SECRET');
      const connected = await withStore(dbUrl(opts), async (store) =>
        connectRemoteAccount(
          { ...(await codeServer(store)), realNow: Date.now },
          opts.workspaceId,
          {
            base_url: opts.baseUrl,
            token_url: opts.tokenUrl,
            client_id: opts.clientId,
            client_secret: secret,
          },
          Date.now(),
        ),
      );
      printResult(opts, {
        connected_account_id: connected.connected_account.connected_account_id,
        display_name: connected.connected_account.display_name,
        devices: connected.devices.map((d) => `${d.name} (${d.provider_device_id})`),
      });
    });

  const key = program.command('key').description('manage API keys');
  key
    .command('create')
    .description('create an API key for a workspace (printed once)')
    .requiredOption('--workspace-id <id>', 'workspace')
    .option('--name <name>', 'a label for the key', 'cli')
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const issued = await withStore(dbUrl(opts), async (store) => {
        await requireWorkspace(store, opts.workspaceId);
        return issueApiKey(store.db, opts.workspaceId, { name: opts.name, now: Date.now() });
      });
      printResult(opts, issued);
    });
  key
    .command('list')
    .description('list the API keys of a workspace (prefixes only)')
    .requiredOption('--workspace-id <id>', 'workspace')
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const keys = await withStore(dbUrl(opts), async (store) => {
        await requireWorkspace(store, opts.workspaceId);
        return listApiKeys(store.db, opts.workspaceId);
      });
      printResult(
        opts,
        keys.map((k) => ({
          api_key_id: k.api_key_id,
          name: k.name,
          prefix: `${k.key_prefix}…`,
          created_at: new Date(k.created_at).toISOString(),
          revoked_at: k.revoked_at === null ? null : new Date(k.revoked_at).toISOString(),
        })),
      );
    });
  key
    .command('revoke')
    .description('revoke an API key; it fails at once')
    .requiredOption('--workspace-id <id>', 'workspace')
    .requiredOption('--api-key-id <id>', 'key to revoke')
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const revoked = await withStore(dbUrl(opts), (store) =>
        revokeApiKey(store.db, opts.workspaceId, opts.apiKeyId, Date.now()),
      );
      if (!revoked) throw new Error(`no live API key ${opts.apiKeyId} in workspace ${opts.workspaceId}`);
      printResult(opts, { api_key_id: opts.apiKeyId, revoked: true });
    });
}
