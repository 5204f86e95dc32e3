import { DEFAULT_DATABASE_URL } from '../config.ts';
import type { WorkspaceRecord } from '../domain/records.ts';
import { openStore, type Store } from '../store/index.ts';
import { getWorkspace } from '../store/repos/workspaces.ts';

// What every command that works straight on the database shares: the --database-url option, opening and
// closing the store around the work, and the "no such workspace" check.

export const dbOption = ['--database-url <url>', 'database (env DATABASE_URL)'] as const;

export const dbUrl = (opts: { databaseUrl?: string }): string =>
  opts.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

export async function withStore<T>(databaseUrl: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(databaseUrl);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function requireWorkspace(store: Store, workspaceId: string): Promise<WorkspaceRecord> {
  const workspace = await getWorkspace(store.db, workspaceId);
  if (!workspace) throw new Error(`no workspace ${workspaceId}`);
  return workspace;
}
