import type { Db } from '../index.ts';
import type { ApiKeyTable } from '../schema.ts';

export type ApiKeyRecord = Omit<ApiKeyTable, 'key_hash'>;

export async function insertApiKey(db: Db, row: ApiKeyTable): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

export async function listApiKeys(db: Db, workspaceId: string): Promise<ApiKeyRecord[]> {
  return db
    .selectFrom('api_keys')
    .select(['api_key_id', 'workspace_id', 'name', 'key_prefix', 'created_at', 'revoked_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .orderBy('api_key_id')
    .execute();
}

/** Returns false when no live key of that id exists in the workspace. */
export async function revokeApiKey(
  db: Db,
  workspaceId: string,
  apiKeyId: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('api_key_id', '=', apiKeyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
