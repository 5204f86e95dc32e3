import type { Command } from 'commander';
import {
  createIgloohomeClient,
  listIgloohomeClientsOf,
  revokeIgloohomeClientOf,
} from '../igloohome/clients.ts';
import { KNOWN_SCOPES } from '../igloohome/scopes.ts';
import { dbOption, dbUrl, requireWorkspace, withStore } from './database.ts';
import { printResult } from './output.ts';

// OAuth2 clients of the igloohome-compatible API (/igloohome), straight on the database like `key create`.

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function registerIgloohomeCommands(program: Command): void {
  const igloohome = program
    .command('igloohome')
    .description('the igloohome-compatible API (/igloohome): OAuth2 client credentials');
  const client = igloohome.command('client').description('manage igloohome API clients of a workspace');
  client
    .command('create')
    .description('create a client; its secret is printed once')
    .requiredOption('--workspace-id <id>', 'workspace')
    .option('--name <name>', 'a label for the client', 'igloohome client')
    .option(
      '--scopes <list>',
      `comma-separated scopes (default: all served, plus sandbox-pairing in a sandbox); known: ${KNOWN_SCOPES.join(', ')}`,
    )
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const scopes =
        typeof opts.scopes === 'string'
          ? opts.scopes
              .split(',')
              .map((s: string) => s.trim())
              .filter((s: string) => s !== '')
          : undefined;
      const created = await withStore(dbUrl(opts), (store) =>
        createIgloohomeClient(store, opts.workspaceId, { name: opts.name, scopes }, Date.now()),
      );
      printResult(opts, {
        client_id: created.client_id,
        client_secret: created.client_secret,
        workspace_id: created.workspace_id,
        name: created.name,
        scopes: created.scopes,
        token_endpoint: 'POST /igloohome/oauth2/token (HTTP Basic client_id:client_secret)',
      });
    });
  client
    .command('list')
    .description('list the igloohome API clients of a workspace (never their secrets)')
    .requiredOption('--workspace-id <id>', 'workspace')
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const clients = await withStore(dbUrl(opts), async (store) => {
        await requireWorkspace(store, opts.workspaceId);
        return listIgloohomeClientsOf(store, opts.workspaceId);
      });
      printResult(
        opts,
        clients.map((c) => ({
          client_id: c.client_id,
          name: c.name,
          scopes: c.scopes,
          created_at: iso(c.created_at),
          revoked_at: iso(c.revoked_at),
        })),
      );
    });
  client
    .command('revoke')
    .description('revoke a client: no new tokens, and its current tokens stop working at once')
    .requiredOption('--workspace-id <id>', 'workspace')
    .requiredOption('--client-id <id>', 'client to revoke')
    .option(...dbOption)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const revoked = await withStore(dbUrl(opts), (store) =>
        revokeIgloohomeClientOf(store, opts.workspaceId, opts.clientId, Date.now()),
      );
      if (!revoked)
        throw new Error(`no live igloohome client ${opts.clientId} in workspace ${opts.workspaceId}`);
      printResult(opts, { client_id: opts.clientId, revoked: true });
    });
}
