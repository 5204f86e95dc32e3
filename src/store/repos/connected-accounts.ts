import type { Selectable } from 'kysely';
import type { ConnectedAccountRecord } from '../../domain/records.ts';
import type { Db } from '../index.ts';
import { decodeCursorOrThrow, type ListOptions } from '../list-options.ts';
import { afterCursor, type Page, toPage } from '../pagination.ts';
import { precompiled } from '../precompiled.ts';
import type { ConnectedAccountTable } from '../schema.ts';

function toRecord(r: Selectable<ConnectedAccountTable>): ConnectedAccountRecord {
  const { sealed_provider_config: _sealed, ...rest } = r;
  return { ...rest, custom_metadata: JSON.parse(r.custom_metadata) };
}

export async function insertConnectedAccount(db: Db, a: ConnectedAccountRecord): Promise<void> {
  await db
    .insertInto('connected_accounts')
    .values({ ...a, custom_metadata: JSON.stringify(a.custom_metadata) })
    .execute();
}

export async function getConnectedAccount(
  db: Db,
  workspaceId: string,
  connectedAccountId: string,
): Promise<ConnectedAccountRecord | null> {
  const row = await db
    .selectFrom('connected_accounts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('connected_account_id', '=', connectedAccountId)
    .executeTakeFirst();
  return row ? toRecord(row) : null;
}

export async function listConnectedAccounts(
  db: Db,
  workspaceId: string,
  options: ListOptions,
): Promise<Page<ConnectedAccountRecord>> {
  const cursor = decodeCursorOrThrow(options.pageCursor);
  let q = db.selectFrom('connected_accounts').selectAll().where('workspace_id', '=', workspaceId);
  if (cursor) q = q.where(afterCursor('connected_account_id', cursor));
  const rows = await q
    .orderBy('created_at')
    .orderBy('connected_account_id')
    .limit(options.limit + 1)
    .execute();
  return toPage(
    rows,
    options.limit,
    (r) => ({ created_at: r.created_at, id: r.connected_account_id }),
    toRecord,
  );
}

/** The sealed remote code-server config of an account (null: the built-in code server). */
const sealedProviderConfig = precompiled((db, p: { connectedAccountId: string }) =>
  db
    .selectFrom('connected_accounts')
    .select('sealed_provider_config')
    .where('connected_account_id', '=', p.connectedAccountId),
);

export async function getSealedProviderConfig(db: Db, connectedAccountId: string): Promise<string | null> {
  const [row] = (await sealedProviderConfig(db, { connectedAccountId })).rows;
  return row?.sealed_provider_config ?? null;
}

export async function setSealedProviderConfig(
  db: Db,
  connectedAccountId: string,
  sealed: string | null,
): Promise<void> {
  await db
    .updateTable('connected_accounts')
    .set({ sealed_provider_config: sealed })
    .where('connected_account_id', '=', connectedAccountId)
    .execute();
}
