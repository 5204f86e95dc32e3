import type { Db } from '../index.ts';
import type { IgloohomeClientTable, IgloohomePinTable } from '../schema.ts';

/** An OAuth2 client of the igloohome-compatible API, scopes decoded. */
export interface IgloohomeClientRecord {
  client_id: string;
  workspace_id: string;
  name: string;
  scopes: string[];
  created_at: number;
  revoked_at: number | null;
}

function toRecord(r: Omit<IgloohomeClientTable, 'secret_hash'>): IgloohomeClientRecord {
  return { ...r, scopes: JSON.parse(r.scopes) as string[] };
}

export async function insertIgloohomeClient(db: Db, row: IgloohomeClientTable): Promise<void> {
  await db.insertInto('igloohome_clients').values(row).execute();
}

/** The client with its secret hash (for the token endpoint), revoked or not; null when unknown. */
export async function getIgloohomeClientWithSecret(
  db: Db,
  clientId: string,
): Promise<(IgloohomeClientRecord & { secret_hash: string }) | null> {
  const row = await db
    .selectFrom('igloohome_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return row ? { ...toRecord(row), secret_hash: row.secret_hash } : null;
}

export async function listIgloohomeClients(db: Db, workspaceId: string): Promise<IgloohomeClientRecord[]> {
  const rows = await db
    .selectFrom('igloohome_clients')
    .select(['client_id', 'workspace_id', 'name', 'scopes', 'created_at', 'revoked_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .orderBy('client_id')
    .execute();
  return rows.map(toRecord);
}

/** Returns false when no live client of that id exists in the workspace. */
export async function revokeIgloohomeClient(
  db: Db,
  workspaceId: string,
  clientId: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('igloohome_clients')
    .set({ revoked_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export type IgloohomePinRecord = IgloohomePinTable;

export async function insertIgloohomePin(db: Db, row: IgloohomePinRecord): Promise<void> {
  await db.insertInto('igloohome_pins').values(row).execute();
}

export async function listIgloohomePins(db: Db, deviceId: string): Promise<IgloohomePinRecord[]> {
  return db
    .selectFrom('igloohome_pins')
    .selectAll()
    .where('device_id', '=', deviceId)
    .orderBy('created_at')
    .orderBy('pin_id')
    .execute();
}

/** The Latchkey device id of the lock igloohome knows as `providerDeviceId` in this workspace, or null. */
export async function findDeviceIdByProviderId(
  db: Db,
  workspaceId: string,
  providerDeviceId: string,
): Promise<string | null> {
  const row = await db
    .selectFrom('devices')
    .select('device_id')
    .where('workspace_id', '=', workspaceId)
    .where('provider_device_id', '=', providerDeviceId)
    .orderBy('created_at')
    .executeTakeFirst();
  return row?.device_id ?? null;
}
