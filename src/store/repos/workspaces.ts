import type { WorkspaceRecord } from '../../domain/records.ts';
import type { Db } from '../index.ts';
import { precompiled } from '../precompiled.ts';
import type { WorkspaceTable } from '../schema.ts';

function toRecord(r: WorkspaceTable): WorkspaceRecord {
  return { ...r, is_sandbox: r.is_sandbox === 1 };
}

export async function insertWorkspace(db: Db, w: WorkspaceRecord): Promise<void> {
  await db
    .insertInto('workspaces')
    .values({ ...w, is_sandbox: w.is_sandbox ? 1 : 0 })
    .execute();
}

export async function getWorkspace(db: Db, workspaceId: string): Promise<WorkspaceRecord | null> {
  const row = await db
    .selectFrom('workspaces')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return row ? toRecord(row) : null;
}

export async function listWorkspaces(db: Db): Promise<WorkspaceRecord[]> {
  const rows = await db
    .selectFrom('workspaces')
    .selectAll()
    .orderBy('created_at')
    .orderBy('workspace_id')
    .execute();
  return rows.map(toRecord);
}

export async function countWorkspaces(db: Db): Promise<number> {
  const row = await db
    .selectFrom('workspaces')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Moves a sandbox workspace's clock forward (atomically: concurrent advances add up). */
export async function advanceWorkspaceClock(
  db: Db,
  workspaceId: string,
  byMs: number,
): Promise<WorkspaceRecord> {
  await db
    .updateTable('workspaces')
    .set((eb) => ({ clock_offset_ms: eb('clock_offset_ms', '+', byMs) }))
    .where('workspace_id', '=', workspaceId)
    .execute();
  const workspace = await getWorkspace(db, workspaceId);
  if (!workspace) throw new Error(`workspace ${workspaceId} vanished`);
  return workspace;
}

// Every request runs this: precompiled (see precompiled.ts).
const workspaceByKeyHash = precompiled((db, p: { keyHash: string }) =>
  db
    .selectFrom('api_keys')
    .innerJoin('workspaces', 'workspaces.workspace_id', 'api_keys.workspace_id')
    .selectAll('workspaces')
    .where('api_keys.key_hash', '=', p.keyHash)
    .where('api_keys.revoked_at', 'is', null),
);

/** The workspace a live (not revoked) API key belongs to, found by the key's hash. */
export async function findWorkspaceByKeyHash(db: Db, keyHash: string): Promise<WorkspaceRecord | null> {
  const [row] = (await workspaceByKeyHash(db, { keyHash })).rows;
  return row ? toRecord(row) : null;
}
